export { unlearn, type UnlearnResult } from './unlearn.js';
export { unlearnMethods, type UnlearnMethod, type UnlearnOptions } from './options.js';
export { saliency, type SaliencyOptions } from './saliency.js';
export { topFractionMask, MaskedWeights, type SaliencyMask } from './mask.js';
export { UpdateProbe, PROBE_LR } from './probe.js';
export { splitByIndices, splitByClass, randomForgetIndices, pick, concatDatasets, type ForgetSplit } from './split.js';
export { membershipAttack, type MembershipAttack } from './mia.js';
export { unlearningMetrics, averageGap, type UnlearningMetrics } from './metrics.js';
export { release as releaseRule } from './weights.js';
