import type { Normalization } from '../../data/batches.js';
import type { ImageDataset } from '../../data/dataset.js';
import type { RuleConfig } from '../create.js';
import type { OptimizerSpec } from '../optim/index.js';
import type { FitHooks, FitSettings } from './train-on.js';

/**
 * salun: saliency mask + random labels; retrain: from scratch on the retain set (the exact reference); finetune:
 * on the retain set only; gradient-ascent: up the loss of the forget set; random-labels: salun without the mask.
 */
export const unlearnMethods = ['salun', 'retrain', 'finetune', 'gradient-ascent', 'random-labels'] as const;
export type UnlearnMethod = (typeof unlearnMethods)[number];

export interface UnlearnOptions {
  /** The trained rule's config: the probe, the clones and the retrained model are built from it. */
  config: RuleConfig;
  /** The samples whose influence goes (their true labels). */
  forget: ImageDataset;
  /** The samples that stay. */
  retain: ImageDataset;
  /** Default 'salun'. */
  method?: UnlearnMethod;
  /** Unlearning epochs (default 5): over forget ∪ retain (salun, random-labels), retain (finetune), forget (GA). */
  epochs?: number;
  /** Learning rate of the unlearning steps; default the config's optimizer's. */
  lr?: number;
  /** Optimizer of the unlearning steps (fresh moments); default the config's, at `lr`. */
  optimizer?: OptimizerSpec;
  /** Default 64. */
  batchSize?: number;
  /** Seeds the data order and the random labels; default the config's seed. */
  seed?: number;
  /** salun: the fraction of weights, by saliency, that may move (default 0.5, the paper's). */
  gamma?: number;
  /** How the training pixels were normalised (default MNIST's, as `train` does). */
  normalization?: Normalization;
  /** retrain: the original training run's settings (default: `epochs` epochs at the config's lr, constant). */
  retrain?: Partial<FitSettings>;
  onStep?: FitHooks['onStep'];
}
