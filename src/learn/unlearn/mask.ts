import type { Tensor } from '../../core/tensor.js';
import { fail } from '../../core/errors.js';
import { keep, tidy } from '../../core/scope.js';
import { add, assign, mul, sub, tensor } from '../../ops/index.js';
import type { LearningRule } from '../rule.js';
import type { Weights } from './weights.js';

/** Which weights may move (1) and which keep their trained value (0), by parameter name. */
export type SaliencyMask = Map<string, Float32Array>;

/**
 * The hard threshold of SalUn: 1 for the ⌊γ·N⌋ largest saliencies over all N weights of the model together (one
 * global ranking, as the paper's code ranks the concatenation of every parameter), 0 for the rest. Ties at the
 * threshold go to the weight that comes first (parameters in `saliency`'s order, then by index), so exactly ⌊γ·N⌋
 * weights are kept whatever the values. NaN ranks below everything.
 */
export function topFractionMask(saliency: ReadonlyMap<string, Float32Array>, gamma: number): SaliencyMask {
  if (!(gamma > 0 && gamma <= 1))
    fail('INVALID_ARGUMENT', `saliency fraction γ = ${gamma} is not in (0, 1]`, 'pass γ such as 0.5 (the paper)');
  let n = 0;
  for (const v of saliency.values()) n += v.length;
  const k = Math.floor(gamma * n);
  const all = new Float32Array(n);
  let o = 0;
  for (const v of saliency.values()) {
    for (let i = 0; i < v.length; i++) all[o + i] = Number.isNaN(v[i]) ? -Infinity : v[i];
    o += v.length;
  }
  // the k-th largest value; every value above it is kept, and the first (k − above) of those equal to it
  const sorted = Float32Array.from(all).sort();
  const threshold = k > 0 ? sorted[n - k] : Infinity;
  let above = 0;
  for (let i = 0; i < n; i++) if (all[i] > threshold) above++;
  let ties = k - above;
  const mask: SaliencyMask = new Map();
  o = 0;
  for (const [name, v] of saliency) {
    const m = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const s = all[o + i];
      if (s > threshold) m[i] = 1;
      else if (s === threshold && ties > 0) {
        m[i] = 1;
        ties--;
      }
    }
    mask.set(name, m);
    o += v.length;
  }
  return mask;
}

/**
 * After every step of masked fine-tuning, θ ← m⊙θ + (1−m)⊙θ₀ puts the non-salient weights back to θ₀ — bit for bit,
 * since 0·θ + θ₀ = θ₀ — whatever the optimizer did (momentum, Adam moments, weight decay all included). Parameters
 * whose mask is all ones are not touched.
 */
export class MaskedWeights {
  private readonly parts: { param: Tensor; mask: Tensor; anchor: Tensor }[] = [];

  constructor(rule: LearningRule, mask: SaliencyMask, theta0: Weights) {
    for (const [name, param] of rule.params()) {
      const m = mask.get(name);
      if (!m || m.length !== param.size)
        fail(
          'SHAPE_MISMATCH',
          `the saliency mask ${m ? `has ${m.length} values for '${name}', not ${param.size}` : `lacks '${name}'`}`,
          'build the mask from the same model',
        );
      if (m.every((v) => v === 1)) continue;
      const maskT = keep(tensor(m, param.shape, 'float32', rule.backend));
      const anchor = keep(tidy(() => mul(sub(1, maskT), theta0.params[name])));
      this.parts.push({ param, mask: maskT, anchor });
    }
  }

  apply(): void {
    tidy(() => {
      for (const p of this.parts) assign(p.param, add(mul(p.mask, p.param), p.anchor));
    });
  }

  dispose(): void {
    for (const p of this.parts) {
      p.mask.dispose();
      p.anchor.dispose();
    }
  }
}
