/** Every attribution method by name. */
export const methodNames = [
  'saliency',
  'input-x-gradient',
  'smoothgrad',
  'smoothgrad-sq',
  'vargrad',
  'integrated-gradients',
  'guided-backprop',
  'deeplift',
  'gradient-shap',
  'occlusion',
  'feature-ablation',
  'lime',
  'kernel-shap',
  'rise',
  'grad-cam',
  'grad-cam++',
  'smooth-grad-cam++',
  'normgrad',
] as const;
export type MethodName = (typeof methodNames)[number];

export interface ExplainOptions {
  method: MethodName;
  /** The class explained; default: the class the model predicts. */
  target?: number;
  /**
   * The reference input (IG, DeepLIFT, occlusion, ablation, SHAP, LIME): a value for every element or one array;
   * default 0.
   */
  baseline?: number | Float32Array;
  /**
   * IG: integration points (default 64); SmoothGrad family, GradientSHAP: noisy samples (default 50); KernelSHAP
   * (2048), LIME (1000), RISE (2000): model calls.
   */
  samples?: number;
  /** IG: 'gauss-legendre' (default) or 'riemann' (midpoints). */
  integration?: 'gauss-legendre' | 'riemann';
  /**
   * SmoothGrad family, GradientSHAP, Smooth Grad-CAM++: noise standard deviation (default 0.15·(max − min) of the
   * input; GradientSHAP 0).
   */
  noise?: number;
  /** Occlusion: window [h, w] (default [4, 4]) and stride (default the window). */
  window?: [number, number];
  stride?: [number, number];
  /**
   * Ablation, KernelSHAP, LIME: group id per input element (or per pixel of [H, W]); default for SHAP/LIME a 4×4 grid
   * of superpixels, for ablation one group per element.
   */
  featureMask?: Int32Array;
  /** GradientSHAP, KernelSHAP: background inputs the absent features are drawn from (instead of `baseline`). */
  background?: Float32Array[];
  /** CAM methods: the layer whose feature maps are used (default the last one with [C, H, W] output). */
  layer?: number;
  /** Random streams (noise, masks, coalitions). */
  seed?: number;
  /** Inputs per model call (default 64). */
  batchSize?: number;
}

export interface Attribution {
  method: MethodName;
  target: number;
  /** Same shape as the input. */
  values: Float32Array;
  shape: number[];
  /** Samples the model evaluated (forward or gradient), the cost of the method. */
  modelCalls: number;
  /** IG, DeepLIFT, GradientSHAP: Σ attribution − (F(x) − F(baseline)), completeness's residual. */
  delta?: number;
  /** F(x) and F(baseline) for the target (where computed). */
  score?: number;
  baselineScore?: number;
}
