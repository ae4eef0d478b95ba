import * as Comlink from 'comlink';
import type { Backend } from '../backend/backend.js';
import { createBackend } from '../backend/select.js';
import { fail, LayerhiveError } from '../core/errors.js';
import { BatchIterator, type BatchCursor } from '../data/batches.js';
import type { ImageDataset } from '../data/dataset.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import type { GroupState } from '../learn/group-state.js';
import { lrAt } from '../learn/optim/index.js';
import { saveGroups, type LearningRule } from '../learn/rule.js';
import { evaluate, type EpochReport, type TrainOptions } from '../learn/trainer.js';
import { makePlan, oneThreadIf, placementCosts, type GroupCost, type Plan } from './placement.js';
import { WorkerPool } from './pool.js';
import type { Spawner } from './spawn.js';
import type { StageStats } from './stage-host.js';

export interface ParallelOptions {
  workers: number;
  /** How to start stage workers (nodeSpawner / webSpawner); not needed with `pool`. */
  spawn?: Spawner;
  /** The backend every stage uses (default 'wasm'). */
  backend?: string;
  /**
   * Threads the plan may use in all (default `workers`): on wasm, placement weighs a stage of 2+ intra-op threads
   * against another pipeline cut, from the groups' costs measured with 1 and 2 threads.
   */
  cores?: number;
  /** 1: every stage runs one thread and the plan only cuts (ignores `cores` past the workers). Default 'auto'. */
  stageThreads?: 'auto' | 1;
  /** Steps between syncs of the coordinator's copy (the restart point after a fault); default 50. */
  syncEvery?: number;
  /** Backprop: micro-batches per batch in the GPipe schedule (default 4). */
  microBatches?: number;
  /** Longest one call to a worker may take (default 10 minutes). */
  timeoutMs?: number;
  /** The most bytes of weights and optimizer state one worker may hold (placement respects it; default no cap). */
  maxBytesPerWorker?: number;
  /** Gives up after this many restarts in one run (default 5). */
  maxRestarts?: number;
  /**
   * Run on this pool (kept open afterwards) instead of starting `workers` new ones: an app spawns its workers
   * once, so later runs make no requests. It needs at least as many workers as the plan has stages.
   */
  pool?: WorkerPool;
  /** Group costs from an earlier `placementCosts(config, backend)`: placement then measures nothing here. */
  costs?: GroupCost[];
  /**
   * Start from these group states (a resumed checkpoint) instead of the config's initial weights; pass the cursor too.
   */
  initial?: Record<string, GroupState>;
  /**
   * Modules each stage worker imports before building the rule: where a rule of your own is registered
   * (`registerRule`). Built-in rules need none.
   */
  ruleModules?: string[];
  /** Called as each chunk of steps starts (fault injection in tests: kill a worker here). */
  onChunkStart?: (info: { epoch: number; chunk: number }, pool: WorkerPool) => void;
}

export interface Restart {
  epoch: number;
  chunk: number;
  reason: string;
  replayedSteps: number;
}

export interface ParallelReport {
  plan: Plan;
  epochs: EpochReport[];
  /** Payload bytes that moved between stages (activations, labels, errors), and per training sample. */
  stageBytes: number;
  stageBytesPerSample: number;
  /** Bytes of state pulled into the coordinator's copy at syncs. */
  syncBytes: number;
  restarts: Restart[];
  workers: StageStats[];
}

const stateBytes = (s: Record<string, GroupState>) =>
  Object.values(s).reduce(
    (sum, g) =>
      sum +
      [...Object.values(g.tensors), ...Object.values(g.optimizer.slots)].reduce((a, t) => a + t.data.byteLength, 0),
    0,
  );

/**
 * Trains a rule over a pool of stage workers, as the rule's declared parallelism says: independent groups (NoProp)
 * train side by side, each worker iterating the same seeded batches (no traffic between workers); a forward pipeline
 * (tpSGD) has stages that learn as a batch passes; GPipe (backprop) moves activations forward and errors back.
 * Every `syncEvery` steps the coordinator pulls each stage's state into its own copy of the rule; a worker that dies
 * or hangs is replaced, every stage goes back to that copy, and the steps since are replayed (reported in `restarts`).
 */
export async function trainParallel(
  config: RuleConfig,
  trainSet: ImageDataset,
  testSet: ImageDataset,
  o: TrainOptions & ParallelOptions,
): Promise<{ rule: LearningRule; report: ParallelReport }> {
  if (o.features)
    throw new LayerhiveError(
      'INVALID_ARGUMENT',
      "trainParallel trains on the batches' pixels; it takes no features",
      'train a head on features with train() or trainOnFrozen()',
    );
  if (!o.pool && !o.spawn)
    throw new LayerhiveError(
      'INVALID_ARGUMENT',
      'trainParallel needs a spawn function or a pool',
      'pass spawn: nodeSpawner(url) / webSpawner(url), or a WorkerPool',
    );
  // the coordinator's copy runs one thread: the stage workers hold the cores, and it only evaluates between epochs
  const backend: Backend = await createBackend(o.backend ?? 'wasm', { threads: 1 });
  const rule = createRule(config, backend);
  let plan: Plan;
  let fresh: BatchIterator;
  let snapshot: { states: Record<string, GroupState>; cursor: BatchCursor };
  try {
    const declared =
      rule.parallelism() ??
      fail('INVALID_ARGUMENT', `${rule.name} declares no parallelism`, 'train it in one thread with train()');
    if (declared.kind === 'independent' && declared.shared && o.workers > 1)
      fail('INVALID_ARGUMENT', declared.shared.why, declared.shared.hint);
    for (const [g, st] of Object.entries(o.initial ?? {})) rule.loadGroup(g, st);
    const costs = o.costs ?? (await placementCosts(config, o.backend ?? 'wasm', o.stageThreads));
    plan = makePlan(config, oneThreadIf(o.stageThreads, costs), o.workers, o.maxBytesPerWorker, o.cores);
    if (o.pool && o.pool.size < plan.stages.length)
      throw new LayerhiveError(
        'INVALID_ARGUMENT',
        `the plan has ${plan.stages.length} stages but the pool has ${o.pool.size} workers`,
        'pass a larger pool or fewer workers',
      );
    fresh = new BatchIterator(trainSet, {
      batchSize: o.batchSize,
      seed: o.seed,
      normalization: o.normalization,
      cursor: o.cursor,
    });
    snapshot = { states: await saveGroups(rule), cursor: fresh.getCursor() };
  } catch (e) {
    rule.dispose();
    backend.destroy?.();
    throw e;
  }
  const schedule = o.schedule ?? { type: 'constant' };
  const bpe = fresh.batchesPerEpoch;
  // started last, right before the try whose finally closes it: nothing that can throw lies in between
  const pool = o.pool ?? new WorkerPool(o.spawn!, plan.stages.length, { timeoutMs: o.timeoutMs });
  const pipeline = plan.mode === 'pipeline';
  const groupIndex = new Map(rule.groups().map((g, i) => [g.name, i]));
  const holdsData = (i: number) => !pipeline || i === 0;
  const label = (i: number) => `${plan.stages[i].groups.join(', ')}`;
  const restarts: Restart[] = [];
  /** Each stage's backend: the requested one, or wasm once that stage's WebGPU device was lost. */
  const stageBackend = plan.stages.map(() => o.backend);
  let syncBytes = 0,
    bytesBeforeRestarts = 0,
    chunkNo = 0,
    samplesTrained = 0;

  /** Brings every stage to the snapshot: rule, weights, optimizer and random state, data cursor, pipeline ports. */
  const restore = async () => {
    await Promise.all(
      plan.stages.map(async (st, i) => {
        await pool.call(i, label(i), (s) =>
          s.init({
            rule: config,
            backend: stageBackend[i],
            threads: st.threads,
            label: `stage ${i} (${label(i)})`,
            modules: o.ruleModules,
          }),
        );
        if (holdsData(i))
          await pool.call(i, label(i), (s) =>
            s.setData(trainSet, {
              batchSize: o.batchSize,
              seed: o.seed,
              normalization: o.normalization,
              cursor: snapshot.cursor,
            }),
          );
        await pool.call(i, label(i), (s) =>
          s.loadGroups(Object.fromEntries(st.groups.map((g) => [g, snapshot.states[g]]))),
        );
      }),
    );
    if (pipeline) {
      const links = plan.stages.slice(1).map(() => new MessageChannel());
      await Promise.all(
        plan.stages.map((_, i) => {
          const prev = i > 0 ? links[i - 1].port2 : null,
            next = i < links.length ? links[i].port1 : null;
          const ports = [prev, next].filter((p): p is MessagePort => p !== null);
          return pool.call(i, label(i), (s) => s.connect(Comlink.transfer({ prev, next }, ports)));
        }),
      );
    }
  };

  /** One chunk on every stage at once; the first failure aborts the others so nothing waits forever. */
  let failedStage = -1;
  const runChunk = async (lrs: number[]): Promise<number[]> => {
    let failure: unknown = null;
    failedStage = -1;
    const calls = plan.stages.map((st, i) =>
      pool
        .call(i, label(i), (s) => {
          if (!pipeline) return s.trainGroups(st.groups, lrs);
          const first = groupIndex.get(st.groups[0]) ?? 0; // a stage holds consecutive segments, in order
          return s.trainPipeline({ first, end: first + st.groups.length, lrs, microBatches: o.microBatches ?? 4 });
        })
        .catch((e: unknown) => {
          if (failure === null) {
            failure = e;
            failedStage = i;
          }
          plan.stages.forEach((_, k) => {
            if (k !== i && !pool.isDead(k)) pool.call(k, 'abort', (s) => s.abort(), 10_000).catch(() => undefined);
          });
          throw e;
        }),
    );
    const settled = await Promise.allSettled(calls);
    if (failure) throw failure;
    return lrs.map((_, k) => settled.reduce((sum, r) => sum + (r as PromiseFulfilledResult<number[]>).value[k], 0));
  };

  const sync = async () => {
    const states = await Promise.all(
      plan.stages.map((st, i) => pool.call(i, label(i), (s) => s.saveGroups(st.groups))),
    );
    const merged: Record<string, GroupState> = Object.assign({}, ...states);
    syncBytes += stateBytes(merged);
    for (const [g, s] of Object.entries(merged)) rule.loadGroup(g, s);
    snapshot = { states: { ...snapshot.states, ...merged }, cursor: await pool.call(0, label(0), (s) => s.cursor()) };
  };

  try {
    await restore();
    const epochs: EpochReport[] = [];
    let step = snapshot.cursor.epoch * bpe + Math.ceil(snapshot.cursor.position / o.batchSize);
    for (let e = snapshot.cursor.epoch; e < o.epochs; e++) {
      const t0 = performance.now();
      let done = e === snapshot.cursor.epoch ? Math.ceil(snapshot.cursor.position / o.batchSize) : 0;
      let seen = 0,
        lossSum = 0;
      while (done < bpe) {
        const n = Math.min(o.syncEvery ?? 50, bpe - done);
        const lrs = Array.from({ length: n }, (_, k) => lrAt(o.lr, schedule, step + k));
        const chunk = chunkNo++;
        o.onChunkStart?.({ epoch: e, chunk }, pool);
        let losses: number[];
        try {
          losses = await runChunk(lrs);
        } catch (err) {
          const dead = plan.stages.map((_, i) => i).filter((i) => pool.isDead(i));
          const deviceLost = failedStage >= 0 && err instanceof LayerhiveError && err.code === 'DEVICE_LOST';
          if ((dead.length === 0 && !deviceLost) || restarts.length >= (o.maxRestarts ?? 5)) throw err;
          let reason = err instanceof Error ? err.message : String(err);
          if (deviceLost) {
            stageBackend[failedStage] = 'wasm';
            reason = `stage ${failedStage} lost its WebGPU device and moved to wasm (${reason})`;
          }
          // what the surviving stages sent before the restore (init starts their counts again; the dead sent theirs)
          for (const i of plan.stages.keys())
            if (!dead.includes(i))
              bytesBeforeRestarts += await pool
                .call(i, label(i), (s) => s.stats())
                .then(
                  (st) => st.bytesSent,
                  () => 0,
                );
          for (const i of dead) await pool.restart(i);
          await restore();
          restarts.push({ epoch: e, chunk, reason, replayedSteps: n });
          continue;
        }
        await sync();
        const batchSamples = Math.min(n * o.batchSize, trainSet.count - done * o.batchSize);
        for (const l of losses) lossSum += l;
        seen += batchSamples;
        samplesTrained += batchSamples;
        step += n;
        done += n;
        o.onProgress?.({
          epoch: e,
          batch: done,
          batches: bpe,
          samplesSeen: seen,
          loss: losses[losses.length - 1],
          samplesPerSecond: seen / ((performance.now() - t0) / 1000),
        });
        await new Promise((r) => setTimeout(r, 0));
      }
      const seconds = (performance.now() - t0) / 1000;
      const report = {
        epoch: e,
        trainLoss: lossSum / Math.max(1, done),
        testAccuracy: await evaluate((x) => rule.predict(x), backend, testSet, 256, o.normalization),
        seconds,
        samplesPerSecond: seen / seconds,
      };
      epochs.push(report);
      await o.onEpoch?.(report, snapshot.cursor, rule);
    }
    const workers = await Promise.all(plan.stages.map((_, i) => pool.call(i, label(i), (s) => s.stats())));
    const stageBytes = bytesBeforeRestarts + workers.reduce((s, w) => s + w.bytesSent, 0);
    return {
      rule,
      report: {
        plan,
        epochs,
        stageBytes,
        stageBytesPerSample: samplesTrained ? stageBytes / samplesTrained : 0,
        syncBytes,
        restarts,
        workers,
      },
    };
  } catch (e) {
    rule.dispose();
    backend.destroy?.();
    throw e instanceof LayerhiveError ? e : new LayerhiveError('WORKER_FAILED', String(e), 'see the message');
  } finally {
    if (!o.pool) await pool.close();
  }
}
