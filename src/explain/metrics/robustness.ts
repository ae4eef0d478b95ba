import { Rng } from '../../core/rng.js';
import { explain, type ExplainTarget } from '../explain.js';
import type { ExplainOptions } from '../types.js';

/**
 * Max-sensitivity (Yeh et al. 2019): the largest relative change ‖Φ(x + δ) − Φ(x)‖ / ‖Φ(x)‖ of the attribution
 * over `samples` uniform perturbations with |δ_i| ≤ radius (default 0.02·(max − min) of x), same target.
 */
export async function maxSensitivity(
  model: ExplainTarget,
  x: Float32Array,
  o: ExplainOptions,
  m: { samples?: number; radius?: number; seed?: number } = {},
): Promise<number> {
  const rng = new Rng(m.seed ?? 0);
  let lo = Infinity,
    hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const r = m.radius ?? 0.02 * (hi - lo || 1);
  const ref = await explain(model, x, o);
  const norm = Math.sqrt(ref.values.reduce((s, v) => s + v * v, 0)) || 1;
  let worst = 0;
  for (let k = 0; k < (m.samples ?? 8); k++) {
    const xp = Float32Array.from(x, (v) => v + (2 * rng.uniform() - 1) * r);
    const a = await explain(model, xp, { ...o, target: ref.target });
    let d = 0;
    for (let i = 0; i < x.length; i++) d += (a.values[i] - ref.values[i]) ** 2;
    worst = Math.max(worst, Math.sqrt(d) / norm);
  }
  return worst;
}
