import type { RuleConfig } from '../learn/create.js';
import { saveGroups, type LearningRule } from '../learn/rule.js';
import { WorkerPool } from './pool.js';
import type { Spawner } from './spawn.js';
import { fromRule, type Explainable } from '../explain/model.js';
import { fail } from '../core/errors.js';

/**
 * An Explainable whose model calls are spread over a pool of stage workers, each holding a replica of the
 * rule: every batch of inputs (IG's path points, SmoothGrad's noisy copies, occlusion's windows, SHAP's
 * coalitions) is split into one share per worker and the shares run at once. Layer gradients (CAM) and
 * DeepLIFT run in this thread on the given rule.
 */
export async function parallelExplainable(
  config: RuleConfig,
  rule: LearningRule,
  o: { workers: number; spawn?: Spawner; pool?: WorkerPool; backend?: string; timeoutMs?: number },
): Promise<Explainable & { close(): Promise<void> }> {
  const local = fromRule(rule, config.inputShape, config.classes);
  if (o.pool && o.pool.size < o.workers)
    fail('INVALID_ARGUMENT', `${o.workers} workers asked for but the pool has ${o.pool.size}`, 'pass a larger pool');
  if (!o.pool && !o.spawn)
    fail(
      'INVALID_ARGUMENT',
      'parallelExplainable needs a spawn function or a pool',
      'pass spawn: nodeSpawner(url) / webSpawner(url), or a WorkerPool',
    );
  const pool = o.pool ?? new WorkerPool(o.spawn!, o.workers, { timeoutMs: o.timeoutMs });
  const close = () => (o.pool ? Promise.resolve() : pool.close()); // a pool passed in stays open
  try {
    const states = await saveGroups(rule);
    await Promise.all(
      Array.from({ length: o.workers }, async (_, i) => {
        await pool.call(i, 'explain', (s) =>
          s.init({ rule: config, backend: o.backend, label: `explain worker ${i}` }),
        );
        await pool.call(i, 'explain', (s) => s.loadGroups(states));
      }),
    );
  } catch (e) {
    await close();
    throw e;
  }
  const per = config.inputShape.reduce((p, d) => p * d, 1);
  /** Rows [from, to) of each worker's share of a batch. */
  const shares = (batch: number) =>
    Array.from(
      { length: o.workers },
      (_, i) => [Math.floor((i * batch) / o.workers), Math.floor(((i + 1) * batch) / o.workers)] as const,
    ).filter(([a, b]) => b > a);
  const spread = async (
    batch: number,
    width: number,
    run: (i: number, from: number, to: number) => Promise<Float32Array>,
  ) => {
    const parts = await Promise.all(shares(batch).map(([a, b], i) => run(i, a, b)));
    const out = new Float32Array(batch * width);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  return {
    ...local,
    scores: (x, batch) =>
      spread(batch, config.classes, (i, a, b) =>
        pool.call(i, 'scores', (s) => s.explainScores(x.slice(a * per, b * per), b - a)),
      ),
    gradients: local.gradients
      ? (x, batch, targets, r = 'gradient') =>
          spread(batch, per, (i, a, b) =>
            pool.call(i, 'gradients', (s) =>
              s.explainGradients(x.slice(a * per, b * per), b - a, targets.slice(a, b), r),
            ),
          )
      : undefined,
    close,
  };
}
