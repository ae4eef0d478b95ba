import type { Backend } from '../backend/backend.js';
import { createBackend } from '../backend/select.js';
import { tidy } from '../core/scope.js';
import { fail } from '../core/errors.js';
import { createRule, parallelismOf, type RuleConfig } from '../learn/create.js';
import { randomUniform, tensor } from '../ops/index.js';
import { Rng } from '../core/rng.js';

/** What one placeable group costs: measured milliseconds per batch, and bytes of weights plus optimizer state. */
export interface GroupCost {
  name: string;
  ms: number;
  bytes: number;
  /** Milliseconds per batch on a wasm backend with 2 intra-op threads, where that was measured. */
  ms2?: number;
}

export interface StagePlan {
  worker: number;
  groups: string[];
  /** Predicted milliseconds per batch with `threads` threads. */
  ms: number;
  bytes: number;
  /** Intra-op threads of this stage's backend (wasm; 1 elsewhere). */
  threads: number;
}

/**
 * Where every group runs. 'independent': groups that read only the batch (NoProp's blocks and head) spread over
 * workers that never talk; 'pipeline': runs of consecutive segments, each stage feeding the next.
 */
export interface Plan {
  mode: 'independent' | 'pipeline';
  rule: string;
  stages: StagePlan[];
  /** Total cost in one thread ÷ the slowest stage: the speed-up the plan allows if nothing else limits it. */
  bound: number;
  /** Threads the plan may use in all (stages × their threads); by default as many as workers. */
  cores: number;
}

/**
 * Consecutive runs of `costs` over at most `parts` stages, minimising the slowest (ties: fewer bytes on the fullest).
 */
export function partitionContiguous(
  costs: readonly GroupCost[],
  parts: number,
  maxBytes = Infinity,
): [number, number][] {
  const n = costs.length,
    p = Math.max(1, Math.min(parts, n));
  const ms = (a: number, b: number) => costs.slice(a, b).reduce((s, c) => s + c.ms, 0);
  const bytes = (a: number, b: number) => costs.slice(a, b).reduce((s, c) => s + c.bytes, 0);
  // best[k][i]: the least possible slowest stage for the first i groups in k stages
  const best = Array.from({ length: p + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut = Array.from({ length: p + 1 }, () => new Array<number>(n + 1).fill(-1));
  best[0][0] = 0;
  for (let k = 1; k <= p; k++) {
    for (let i = k; i <= n; i++) {
      for (let j = k - 1; j < i; j++) {
        if (bytes(j, i) > maxBytes || best[k - 1][j] === Infinity) continue;
        const v = Math.max(best[k - 1][j], ms(j, i));
        if (v < best[k][i]) {
          best[k][i] = v;
          cut[k][i] = j;
        }
      }
    }
  }
  if (best[p][n] === Infinity)
    fail(
      'INVALID_ARGUMENT',
      `the groups do not fit ${p} workers of ${maxBytes} bytes each`,
      'use more workers or allow more memory per worker',
    );
  const ranges: [number, number][] = [];
  for (let k = p, i = n; k > 0; k--) {
    const j = cut[k][i];
    ranges.unshift([j, i]);
    i = j;
  }
  return ranges;
}

/** Independent groups over `workers` by longest-processing-time first, each to the least loaded worker with room. */
export function assignIndependent(costs: readonly GroupCost[], workers: number, maxBytes = Infinity): number[][] {
  const w = Math.max(1, Math.min(workers, costs.length));
  const load = new Array<number>(w).fill(0),
    mem = new Array<number>(w).fill(0);
  const out: number[][] = Array.from({ length: w }, () => []);
  const order = costs.map((_, i) => i).sort((a, b) => costs[b].ms - costs[a].ms || a - b);
  for (const g of order) {
    let at = -1;
    for (let k = 0; k < w; k++) if (mem[k] + costs[g].bytes <= maxBytes && (at < 0 || load[k] < load[at])) at = k;
    if (at < 0)
      fail(
        'INVALID_ARGUMENT',
        `group ${costs[g].name} (${costs[g].bytes} bytes) fits no worker`,
        'use more workers or allow more memory per worker',
      );
    load[at] += costs[g].ms;
    mem[at] += costs[g].bytes;
    out[at].push(g);
  }
  for (const o of out) o.sort((a, b) => a - b); // each worker trains its groups in model order
  return out;
}

/** Bytes a group holds: its weights, plus the optimizer's state per weight (Adam: two moments). */
function groupBytes(params: number, c: RuleConfig): number {
  const slots = c.optimizer.type === 'sgd' ? (c.optimizer.momentum ? 1 : 0) : 2;
  return params * 4 * (1 + slots);
}

/**
 * Times each group once on `batch` images (after one warm-up) on a throwaway copy of the rule: an independent
 * group's training step, a segment's forward for the pipelines. With `threaded` (a wasm backend with 2 threads),
 * each group is timed there too (`ms2`), so placement can weigh threads against a pipeline cut.
 */
export function measureCosts(c: RuleConfig, backend: Backend, batch = 32, threaded?: Backend): GroupCost[] {
  const one = timeGroups(c, backend, batch);
  if (!threaded) return one;
  const two = timeGroups(c, threaded, batch);
  return one.map((g, i) => ({ ...g, ms2: two[i].ms }));
}

/**
 * Group costs as placement wants them for stages on `backendName`: measured on fresh backends of one thread and,
 * for wasm where shared memory is available and `stageThreads` is not 1, of two (each destroyed after).
 */
export async function placementCosts(
  c: RuleConfig,
  backendName: string,
  stageThreads: 'auto' | 1 = 'auto',
): Promise<GroupCost[]> {
  const one = await createBackend(backendName, { threads: 1 });
  let two: Backend | null = null;
  try {
    if (backendName === 'wasm' && stageThreads !== 1) {
      two = await createBackend('wasm', { threads: 2 });
      if (two.capabilities().threadsInUse !== 2) {
        two.destroy?.();
        two = null;
      }
    }
    return measureCosts(c, one, 32, two ?? undefined);
  } finally {
    one.destroy?.();
    two?.destroy?.();
  }
}

/** The costs as one-thread stages see them when `stageThreads` is 1 (the 2-thread times dropped). */
export function oneThreadIf(stageThreads: 'auto' | 1 | undefined, costs: readonly GroupCost[]): GroupCost[] {
  return stageThreads === 1 ? costs.map(({ ms2: _, ...g }) => g) : [...costs];
}

function timeGroups(c: RuleConfig, backend: Backend, batch: number): GroupCost[] {
  const rule = createRule({ ...c }, backend);
  try {
    const rng = new Rng(1);
    return tidy(() => {
      const x = randomUniform([batch, ...c.inputShape], rng, -1, 1, backend);
      const y = tensor(
        Int32Array.from({ length: batch }, (_, i) => i % c.classes),
        [batch],
        'int32',
        backend,
      );
      const time = (f: () => unknown) => {
        tidy(f);
        const t0 = performance.now();
        tidy(f);
        return performance.now() - t0;
      };
      const params = rule.params();
      const groups = rule.groups();
      const bytes = (i: number) =>
        groupBytes(
          groups[i].params.reduce((n, k) => n + (params.get(k)?.size ?? 0), 0),
          c,
        );
      const p =
        rule.parallelism() ??
        fail('INVALID_ARGUMENT', `${rule.name} declares no parallelism to place`, 'train it in one thread');
      if (p.kind === 'independent')
        return groups.map((g, i) => ({ name: g.name, ms: time(() => p.train([i], x, y)), bytes: bytes(i) }));
      let h = x;
      return groups.map((g, i) => {
        const ms = time(() => p.forward(h, i, i + 1));
        h = p.forward(h, i, i + 1);
        return { name: g.name, ms, bytes: bytes(i) };
      });
    });
  } finally {
    rule.dispose();
  }
}

/**
 * The plan for `workers` workers from measured costs; the rule's declared parallelism decides the mode. `cores`
 * (default: `workers`) is how many threads the plan may use in all.
 */
export function makePlan(
  c: RuleConfig,
  costs: readonly GroupCost[],
  workers: number,
  maxBytes = Infinity,
  cores = workers,
): Plan {
  const kind =
    parallelismOf(c) ??
    fail('INVALID_ARGUMENT', `${c.rule} declares no parallelism to place`, 'train it in one thread');
  return planFor(kind === 'independent' ? 'independent' : 'pipeline', c.rule, costs, workers, maxBytes, cores);
}

/**
 * A stage's predicted milliseconds with `t` threads: its one-thread time over the speed-up its groups showed with
 * two (measured), each thread past the second assumed to add what the second did; one thread where not measured.
 */
function stageMs(ms: number, ms2: number | undefined, t: number): number {
  if (t <= 1 || ms2 === undefined || !(ms2 > 0)) return ms;
  return ms / (1 + Math.max(0, ms / ms2 - 1) * (t - 1));
}

/**
 * The plan of `mode` from measured costs: for each number of stages from `workers` down to one, the best cut
 * (independent groups: longest first; a pipeline: contiguous runs), then the threads left of `cores` go one at a
 * time to the stage predicted slowest. The plan with the fastest slowest stage wins; on a tie, more stages (threads
 * add a round trip per kernel, a cut only a message per batch).
 */
export function planFor(
  mode: Plan['mode'],
  rule: string,
  costs: readonly GroupCost[],
  workers: number,
  maxBytes = Infinity,
  cores = workers,
): Plan {
  const total = costs.reduce((s, g) => s + g.ms, 0);
  const threaded = costs.every((g) => g.ms2 !== undefined);
  const most = Math.max(1, Math.min(workers, cores, costs.length));
  let best: StagePlan[] | null = null,
    refusal: unknown = null;
  for (let parts = most; parts >= 1; parts--) {
    let groups: number[][];
    try {
      groups =
        mode === 'independent'
          ? assignIndependent(costs, parts, maxBytes)
          : partitionContiguous(costs, parts, maxBytes).map(([a, b]) => Array.from({ length: b - a }, (_, k) => a + k));
    } catch (e) {
      refusal ??= e; // fewer stages than this do not fit either
      break;
    }
    const stages = groups.map((idx, worker) => {
      const sum = (f: (g: GroupCost) => number) => idx.reduce((s, i) => s + f(costs[i]), 0);
      return {
        worker,
        groups: idx.map((i) => costs[i].name),
        one: sum((g) => g.ms),
        two: threaded ? sum((g) => g.ms2 ?? 0) : undefined,
        bytes: sum((g) => g.bytes),
        threads: 1,
      };
    });
    for (let left = cores - stages.length; left > 0 && threaded; left--) {
      const at = stages.reduce(
        (m, st, i) =>
          stageMs(st.one, st.two, st.threads) > stageMs(stages[m].one, stages[m].two, stages[m].threads) ? i : m,
        0,
      );
      stages[at].threads++;
    }
    const plan = stages.map((st) => ({
      worker: st.worker,
      groups: st.groups,
      ms: stageMs(st.one, st.two, st.threads),
      bytes: st.bytes,
      threads: st.threads,
    }));
    const slowest = (p: StagePlan[]) => Math.max(...p.map((st) => st.ms));
    if (!best || slowest(plan) < slowest(best)) best = plan;
  }
  if (!best) throw refusal;
  return { mode, rule, stages: best, bound: total / Math.max(...best.map((s) => s.ms)), cores };
}

export function formatPlan(p: Plan): string {
  const rows = p.stages.map(
    (s) =>
      `  worker ${s.worker}: ${s.groups.join(', ')}  ` +
      `(${s.threads > 1 ? `${s.threads} threads, ` : ''}${s.ms.toFixed(2)} ms/batch, ` +
      `${(s.bytes / 2 ** 20).toFixed(2)} MiB)`,
  );
  return [
    `${p.rule}: ${p.mode} over ${p.stages.length} worker(s); ` +
      `the slowest stage bounds the speed-up at ${p.bound.toFixed(2)}×`,
    ...rows,
  ].join('\n');
}
