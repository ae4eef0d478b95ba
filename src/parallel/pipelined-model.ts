import * as Comlink from 'comlink';
import { fail } from '../core/errors.js';
import type { RuleConfig } from '../learn/create.js';
import { saveGroups, type LearningRule } from '../learn/rule.js';
import { Channel } from './channel.js';
import { placementCosts, planFor, type Plan } from './placement.js';
import { WorkerPool } from './pool.js';
import type { Spawner } from './spawn.js';
import type { StageStats } from './stage-host.js';
import type { WireTensor } from './wire.js';

export interface PipelineOptions {
  workers: number;
  spawn: Spawner;
  backend?: string;
  /** Threads the plan may use in all (default `workers`): a stage may get 2+ intra-op threads instead of a cut. */
  cores?: number;
  /** 1: every stage runs one thread and the plan only cuts. Default 'auto'. */
  stageThreads?: 'auto' | 1;
  timeoutMs?: number;
}

/**
 * Inference spread over workers: each holds a run of the model's layers; micro-batches enter the first
 * stage, move stage to stage over direct ports, and leave the last one, so stage k works on micro-batch
 * m while stage k+1 works on m − 1.
 */
export class PipelinedModel {
  private constructor(
    readonly plan: Plan,
    private pool: WorkerPool,
    private ranges: [number, number][],
    private inbound: Channel,
    private outbound: Channel,
    readonly outputShape: number[],
  ) {}

  /**
   * Places the chain of segments of `rule` (built from `config`; a rule that declares a pipeline) on workers, with its
   * current weights.
   */
  static async create(config: RuleConfig, rule: LearningRule, o: PipelineOptions): Promise<PipelinedModel> {
    const declared = rule.parallelism();
    if (!declared || declared.kind === 'independent') {
      fail(
        'INVALID_ARGUMENT',
        `a ${rule.name} model is not a stack of layers to pipeline`,
        'pipeline a model whose rule declares a chain of segments; independent groups run side by side instead',
      );
    }
    const costs = await placementCosts(config, o.backend ?? 'wasm', o.stageThreads);
    const plan = planFor('pipeline', rule.name, costs, o.workers, Infinity, o.cores);
    const pool = new WorkerPool(o.spawn, plan.stages.length, { timeoutMs: o.timeoutMs });
    try {
      // each stage holds consecutive segments: group k of the rule is segment k
      const index = new Map(rule.groups().map((g, i) => [g.name, i]));
      const ranges = plan.stages.map((s): [number, number] => [
        index.get(s.groups[0]) ?? 0,
        (index.get(s.groups[s.groups.length - 1]) ?? 0) + 1,
      ]);
      const links = Array.from({ length: plan.stages.length + 1 }, () => new MessageChannel());
      await Promise.all(
        plan.stages.map(async (st, i) => {
          const name = st.groups.join(', ');
          await pool.call(i, name, (s) =>
            s.init({ rule: config, backend: o.backend, threads: st.threads, label: `stage ${i} (${name})` }),
          );
          const states = await saveGroups(rule, st.groups);
          await pool.call(i, name, (s) => s.loadGroups(states));
          const prev = links[i].port2,
            next = links[i + 1].port1;
          await pool.call(i, name, (s) => s.connect(Comlink.transfer({ prev, next }, [prev, next])));
        }),
      );
      return new PipelinedModel(
        plan,
        pool,
        ranges,
        new Channel(links[0].port1, 4),
        new Channel(links[plan.stages.length].port2),
        [config.classes],
      );
    } catch (e) {
      await pool.close();
      throw e;
    }
  }

  /** Outputs for `x` ([N, …input]) in micro-batches of `microBatch` rows; the same values as a one-thread predict. */
  async predict(x: Float32Array, shape: number[], microBatch = 64): Promise<{ data: Float32Array; shape: number[] }> {
    const N = shape[0],
      per = x.length / N,
      count = Math.ceil(N / microBatch),
      outPer = this.outputShape.reduce((p, d) => p * d, 1);
    const runs = this.ranges.map(([from, to], i) =>
      this.pool.call(i, `predict ${from}–${to}`, (s) => s.predict(from, to, count)),
    );
    // a stage that fails must not leave this side waiting for outputs that never come
    Promise.all(runs).catch((e: Error) => {
      this.inbound.abort(e);
      this.outbound.abort(e);
    });
    const feed = (async () => {
      for (let m = 0; m < count; m++) {
        const s = m * microBatch,
          e = Math.min(N, s + microBatch);
        const w: WireTensor = { shape: [e - s, ...shape.slice(1)], dtype: 'float32', data: x.slice(s * per, e * per) };
        await this.inbound.send('act', w, [w.data.buffer as ArrayBuffer]);
      }
    })();
    const out = new Float32Array(N * outPer);
    for (let m = 0; m < count; m++) {
      const w = await this.outbound.receive<WireTensor>('act');
      out.set(w.data as Float32Array, m * microBatch * outPer);
    }
    await Promise.all([feed, ...runs]);
    return { data: out, shape: [N, ...this.outputShape] };
  }

  stats(): Promise<StageStats[]> {
    return Promise.all(this.ranges.map((_, i) => this.pool.call(i, 'stats', (s) => s.stats())));
  }

  async close(): Promise<void> {
    this.inbound.close();
    this.outbound.close();
    await this.pool.close();
  }
}
