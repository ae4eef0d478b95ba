export { explain, toExplainable, type ExplainTarget } from './explain.js';
export { fromSequential, fromScores, fromRule, type Explainable, type GradientRule } from './model.js';
export {
  methodNames,
  layerMethodNames,
  type MethodName,
  type LayerMethodName,
  type ExplainMethod,
  type ExplainOptions,
  type BatchExplainOptions,
  type Attribution,
} from './types.js';
export { gaussLegendre, riemann } from './quadrature.js';
export * from './metrics/index.js';
export {
  inputPicture,
  heatmapPicture,
  overlayPicture,
  mapScale,
  mapColour,
  type MapScale,
  type Picture,
} from './heatmap.js';
