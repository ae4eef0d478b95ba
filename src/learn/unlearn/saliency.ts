import type { Tensor } from '../../core/tensor.js';
import { dispose, keep, tidy } from '../../core/scope.js';
import { abs, add } from '../../ops/index.js';
import { BatchIterator, toTensors, type Normalization } from '../../data/batches.js';
import type { ImageDataset } from '../../data/dataset.js';
import type { RuleConfig } from '../create.js';
import type { LearningRule } from '../rule.js';
import { UpdateProbe } from './probe.js';
import { snapshot } from './weights.js';

export interface SaliencyOptions {
  batchSize: number;
  normalization?: Normalization;
}

/**
 * SalUn's weight saliency: |Σ_batches ∇θ ℓ_f(θ; D_f)| for every parameter, with ℓ_f the rule's own training loss on
 * the forget set with its true labels (the sign of ℓ_f does not matter under |·|). The gradients are the rule's own
 * update directions (`UpdateProbe`); the trained rule is left as it was. Values by parameter name, on the host.
 */
export async function saliency(
  rule: LearningRule,
  config: RuleConfig,
  forget: ImageDataset,
  o: SaliencyOptions,
): Promise<Map<string, Float32Array>> {
  const probe = new UpdateProbe(rule, config);
  const at = snapshot(rule);
  let sum: Record<string, Tensor> | null = null;
  try {
    const it = new BatchIterator(forget, { batchSize: o.batchSize, shuffle: false, normalization: o.normalization });
    for (const b of it.restOfEpoch()) {
      const next: Record<string, Tensor> = tidy(() => {
        const { x, y } = toTensors(b, rule.backend);
        const g = probe.gradient(at, x, y);
        return sum ? Object.fromEntries(Object.entries(g).map(([k, t]) => [k, add(sum![k], t)])) : g;
      });
      for (const t of Object.values(next)) keep(t);
      if (sum) dispose(sum);
      sum = next;
    }
    const out = new Map<string, Float32Array>();
    for (const [k, t] of Object.entries(sum!)) {
      const a = abs(t);
      out.set(k, Float32Array.from((await a.data()) as Float32Array));
      a.dispose();
    }
    return out;
  } finally {
    if (sum) dispose(sum);
    dispose(at);
    probe.dispose();
  }
}
