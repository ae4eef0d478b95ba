// Settings of the `learning` suite: per-rule optimizer and rule options (the tuned ones), the data
// normalisation and the tfjs reference. Plain data, shared by bench/learning.mjs (which writes them into
// the JSON) and bench/learning-child.mjs (which trains with them). The README's learning section repeats
// the RULE_SETTINGS table: keep the two in step.

/** MNIST's training-set mean and std of v / 255 (the library's MNIST_NORMALIZATION); the tfjs peer uses the same. */
export const NORMALIZATION = Object.freeze({ mean: 0.1307, std: 0.3081 });

export const SEED = 1;
export const DEFAULT_BATCH = 64;

/** Every layerhive rule the suite knows, in table order; `tfjs` is the outside reference (backprop in tfjs-wasm). */
export const RULES = ['backprop', 'tpsgd', 'noprop-dt', 'noprop-ct', 'noprop-fm'];
export const TFJS = 'tfjs';

/**
 * Per-rule settings. All rules: cosine decay of the learning rate to 0 over the whole run
 * (schedule { type: 'cosine', totalSteps: epochs · ⌈images / batch⌉ }), batch 64 (--batch), seed 1.
 * backprop and tpSGD train the same network, modelSpec('mlp'|'cnn'); NoProp uses the model name as its block kind.
 *   tuned: true  — backprop/tpSGD chosen on MNIST subsets (test/unit/learn/mnist-subset.test.ts); noprop-dt the
 *                  paper's optimizer and T (docs/algorithms.md), inference without noise (noprop/dt.ts);
 *   tuned: false — the paper's reported figures, not tuned here yet.
 */
export const RULE_SETTINGS = {
  backprop: { optimizer: { type: 'adam', lr: 1e-3 }, tuned: true },
  tpsgd: { optimizer: { type: 'adam', lr: 5e-3 }, tpsgd: { loss: 'l2' }, tuned: true },
  'noprop-dt': {
    optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 1e-3 },
    noprop: { T: 10, embedding: 'onehot' },
    tuned: true,
  },
  // Paper (CT): Adam lr 1e-3, wd 1e-3, η = 1. Decoupled decay (AdamW) as for DT.
  'noprop-ct': {
    optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 1e-3 },
    noprop: { embedding: 'onehot', eta: 1, weighting: 'uniform' },
    tuned: false,
  },
  // No figure in the paper for MNIST; DT's optimizer.
  'noprop-fm': {
    optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 1e-3 },
    noprop: { embedding: 'onehot' },
    tuned: false,
  },
};

/**
 * The tfjs reference: 784-512-512-10 tanh MLP (the library's modelSpec('mlp')), He-normal weights
 * (std √(2/fan_in), as layerhive's Dense), zero biases, softmax cross-entropy, Adam lr 1e-3 (β 0.9/0.999,
 * ε 1e-8 as layerhive's Adam; tfjs's default ε is 1e-7), the same cosine decay, batch, epochs and
 * normalisation; its own seeded shuffle (mulberry32 Fisher–Yates).
 */
export const TFJS_SETTINGS = {
  model: 'mlp 784-512-512-10 tanh',
  init: 'he-normal weights (std sqrt(2/fan_in)), zero biases',
  optimizer: { type: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  loss: 'softmax cross-entropy (mean over the batch)',
  step: 'tf.tidy(() => tf.variableGrads(loss)) + optimizer.applyGradients, every tensor of the step disposed',
  shuffle: 'own seeded Fisher–Yates (mulberry32, seed 1) each epoch',
  backend: 'tfjs-backend-wasm, 1 thread (SIMD build)',
};

export const QUICK = Object.freeze({ trainImages: 4000, testImages: 1000, epochs: 1 });
export const FULL = Object.freeze({ trainImages: 60000, testImages: 10000, epochs: 3 });
