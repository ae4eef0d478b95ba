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

/**
 * Methods at a hidden layer (Captum's LayerIntegratedGradients, LayerGradientXActivation: attributions of the
 * layer's output) or for one of its units (NeuronIntegratedGradients, NeuronGradient: input attributions of the
 * unit's value). They need `layer` (and `neuron`), so they are listed apart from `methodNames`, the methods that
 * explain a class from the input alone (the CLI's `--method all`).
 */
export const layerMethodNames = [
  'layer-integrated-gradients',
  'layer-gradient-x-activation',
  'neuron-integrated-gradients',
  'neuron-gradient',
] as const;
export type LayerMethodName = (typeof layerMethodNames)[number];
/** Any method `explain` takes. */
export type ExplainMethod = MethodName | LayerMethodName;

/**
 * How to explain: the method and its options. An option a method does not take is ignored, except the counts
 * (`steps`, `noiseSamples`, `nSamples`), which only the methods that count that thing accept. Every option given is
 * checked (a typed INVALID_ARGUMENT naming it and showing an accepted value); so is an unknown one.
 */
export interface ExplainOptions {
  method: ExplainMethod;
  /** The class explained; default: the class the model predicts. A batch takes one per input, or one for all. */
  target?: number;
  /**
   * The reference input (IG, DeepLIFT, occlusion, ablation, SHAP, LIME): a value for every element or one number;
   * default 0. A batch shares it.
   */
  baseline?: number | Float32Array;
  /** IG, layer IG, neuron IG: integration points (Captum's `n_steps`; default 64). */
  steps?: number;
  /** IG: 'gauss-legendre' (default) or 'riemann' (midpoints). */
  integration?: 'gauss-legendre' | 'riemann';
  /** SmoothGrad, SmoothGrad², VarGrad (default 50), Smooth Grad-CAM++ (25): noisy copies (Captum's `nt_samples`). */
  noiseSamples?: number;
  /**
   * Model evaluations drawn (Captum's and shap's `n_samples`): GradientSHAP gradient samples (default 50);
   * KernelSHAP coalitions (2048: at most that many model calls, 2 more for F(x) and F(baseline), each times the
   * background size); LIME perturbations (1000); RISE masks (2000).
   */
  nSamples?: number;
  /**
   * The old name of each method's count, still accepted: IG's `steps`, the SmoothGrad family's and Smooth
   * Grad-CAM++'s `noiseSamples`, the others' `nSamples`; ignored by methods that count nothing.
   */
  samples?: number;
  /**
   * SmoothGrad family, GradientSHAP, Smooth Grad-CAM++: the noise's absolute standard deviation σ (Captum's
   * `stdevs`). Default: SmoothGrad, SmoothGrad², VarGrad 1 (Captum's NoiseTunnel); GradientSHAP 0; Smooth
   * Grad-CAM++ 0.15·(max − min) of the input.
   */
  noise?: number;
  /**
   * SmoothGrad family: σ as a share of the input's range instead, σ = noiseShare·(max − min) (the SmoothGrad
   * paper's noise level, 0.1–0.2 there); used when `noise` is not given.
   */
  noiseShare?: number;
  /**
   * Guided backprop: which activations pass only positive gradients: 'relu' (default; Captum overrides ReLUs
   * only, so tanh, sigmoid and GELU pass the plain gradient) or 'all' activations.
   */
  guidedActivations?: 'relu' | 'all';
  /**
   * Occlusion: window [h, w] or one number for both (default 4) and stride (default the window, no longer than
   * it); windows are placed as Captum places them, the last one on each axis cut off by the edge.
   */
  window?: number | [number, number];
  stride?: number | [number, number];
  /**
   * Ablation, KernelSHAP, LIME: group id per input element (or per pixel of [H, W]); default for SHAP/LIME
   * superpixels of 4×4 pixels (a ⌈H/4⌉×⌈W/4⌉ grid: 49 of them on 28×28), for ablation one group per element.
   */
  featureMask?: Int32Array;
  /** GradientSHAP, KernelSHAP: background inputs the absent features are drawn from (instead of `baseline`). */
  background?: Float32Array[];
  /**
   * CAM methods: the layer whose feature maps are used, by name (the spec's `name`, else its type and count:
   * `conv2d`, `conv2d_1`, …, `relu_2`; the Explainable's `layerNames`) or by index in the model's layer list;
   * default the last one with [C, H, W] output. Layer and neuron methods: the layer attributed at (layer methods:
   * the attribution has its output's shape) or whose unit is explained; required there.
   */
  layer?: number | string;
  /**
   * Neuron methods (required there): the unit of `layer`'s output explained, a flat index or one index per axis of
   * that output ([c, h, w] of a feature map), as Captum's `neuron_selector`.
   */
  neuron?: number | readonly number[];
  /** Random streams (noise, masks, coalitions); every input of a batch draws the same stream. */
  seed?: number;
  /**
   * Model inputs per model call, whatever they are (IG's path points, noisy copies, perturbed inputs: Captum's
   * `internal_batch_size` and `perturbations_per_eval` in one); default 64. A batch's inputs share the calls.
   */
  batchSize?: number;
}

/** Options of a batch: as for one input, with a target per input or one for all. */
export type BatchExplainOptions = Omit<ExplainOptions, 'target'> & { target?: number | readonly number[] };

export interface Attribution {
  method: ExplainMethod;
  /** The class explained; −1 for the neuron methods, which explain a unit, not a class. */
  target: number;
  /** Same shape as the input; the layer's output shape for the layer methods. */
  values: Float32Array;
  shape: number[];
  /**
   * Samples the model evaluated (forward or gradient), the cost of the method; in a batch, the batch's calls over
   * its inputs (they share the baseline's and background's, so it may be fractional).
   */
  modelCalls: number;
  /**
   * IG, DeepLIFT, GradientSHAP: Σ attribution − (F(x) − F(baseline)), completeness's residual; KernelSHAP: 0, the
   * regression holds Σφ = F(x) − F(baseline) exactly. Layer IG: the same, the path running between the layer's
   * activations of the baseline and of x; neuron IG: with the unit's value in place of F.
   */
  delta?: number;
  /** F(x) and F(baseline) for the target (where computed); the unit's values for neuron IG. */
  score?: number;
  baselineScore?: number;
  /**
   * KernelSHAP: true when every coalition was evaluated (the values are the exact Shapley values), false when
   * coalitions were sampled.
   */
  exact?: boolean;
  /** Sampled KernelSHAP: each element's standard error (its feature's, bootstrapped over the random draws). */
  standardError?: Float32Array;
  /** Occlusion: how many windows covered each element (every element ≥ 1). */
  coverage?: Int32Array;
}
