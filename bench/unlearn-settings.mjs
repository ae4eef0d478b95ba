// Settings of the `unlearn` suite (bench/unlearn.mjs): sizes, the trained model, each method's hyperparameters.
import { RULE_SETTINGS, SEED } from './learning-settings.mjs';

/** Sizes: a subset of MNIST's training set (the model learns it in seconds on 2 cores), the whole test set. */
export const FULL = Object.freeze({ trainImages: 10000, testImages: 10000, epochs: 3 });
export const QUICK = Object.freeze({ trainImages: 2000, testImages: 2000, epochs: 2 });
export const BATCH = 64;
export { SEED };

/** The rules the suite unlearns on: backprop and one local rule, each with the learning suite's optimizer. */
export const UNLEARN_RULES = ['backprop', 'tpsgd'];
export const ruleConfig = (rule, classes = 10) => ({
  rule,
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes,
  optimizer: RULE_SETTINGS[rule].optimizer,
  ...(RULE_SETTINGS[rule].tpsgd ? { tpsgd: RULE_SETTINGS[rule].tpsgd } : {}),
  seed: SEED,
  streams: 'named',
});

/** Random forgetting: 10% of the training subset (the paper's setting); class-wise: every training image of a class. */
export const SCENARIOS = [
  { name: 'random 10%', kind: 'random', fraction: 0.1 },
  { name: 'class-wise (digit 3)', kind: 'class', class: 3 },
];

/**
 * Per scenario and method: unlearning epochs and learning rate (the rule's own optimizer kind with fresh moments; GA:
 * plain steps θ += lr·∇ℓ_f). The paper tunes these per method and scenario on CIFAR-10 (SGD; FT and RL 10 epochs,
 * GA 5, SalUn 10 at lr 0.013 for random 10%); ours were picked from a small grid (GA lr 0.003–0.1; RL, SalUn
 * lr 1e-4–1e-3, 1 epoch; FT 1–2 epochs at 1e-3) on the backprop MLP of the full run, by the gap to retraining;
 * tpSGD takes the same except GA (`RULE_OVERRIDES`: at 0.003 and above its ascent wrecks the model, RA ≈ 11%).
 */
const common = { retrain: { label: 'Retrain' }, finetune: { label: 'FT', epochs: 2, lr: 1e-3 } };
export const METHODS = {
  random: {
    ...common,
    'gradient-ascent': { label: 'GA', epochs: 1, lr: 0.01 },
    'random-labels': { label: 'RL', epochs: 1, lr: 1e-4 },
    salun: { label: 'SalUn', epochs: 1, lr: 1e-4, gamma: 0.5 },
  },
  class: {
    ...common,
    'gradient-ascent': { label: 'GA', epochs: 1, lr: 0.01 },
    'random-labels': { label: 'RL', epochs: 1, lr: 3e-4 },
    salun: { label: 'SalUn', epochs: 1, lr: 3e-4, gamma: 0.5 },
  },
};

/** Per rule, scenario and method: what differs from METHODS. */
export const RULE_OVERRIDES = {
  tpsgd: {
    random: { 'gradient-ascent': { lr: 1e-3 } },
    class: { 'gradient-ascent': { lr: 3e-4 } },
  },
};

/** The settings of `method` in scenario `kind` for `rule`. */
export const methodSettings = (rule, kind) =>
  Object.fromEntries(
    Object.entries(METHODS[kind]).map(([m, v]) => [m, { ...v, ...RULE_OVERRIDES[rule]?.[kind]?.[m] }]),
  );
