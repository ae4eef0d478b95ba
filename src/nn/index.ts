export type { Layer, LayerSpec, ForwardContext, Gradients, Cache, BuildContext } from './layer.js';
export { Sequential, type ModelSpec } from './sequential.js';
export { buildLayer } from './build.js';
