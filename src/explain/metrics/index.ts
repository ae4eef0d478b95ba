export { auc, deletionInsertion, infidelity } from './faithfulness.js';
export { maxSensitivity } from './robustness.js';
export { randomisationCheck, spearman, type RandomisationResult } from './randomisation.js';
export { blockMnist, localisation, type BlockMnist } from './blockmnist.js';

/** |Σ attribution − (F(x) − F(x′))| ÷ |F(x) − F(x′)|: 0 for a complete method (IG, DeepLIFT, KernelSHAP). */
export function completenessError(a: { delta?: number; score?: number; baselineScore?: number }): number | null {
  if (a.delta === undefined || a.score === undefined || a.baselineScore === undefined) return null;
  return Math.abs(a.delta) / Math.max(1e-12, Math.abs(a.score - a.baselineScore));
}
