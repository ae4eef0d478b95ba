import { tidy } from '../../core/scope.js';
import { BatchIterator, toTensors, type Normalization } from '../../data/batches.js';
import type { ImageDataset } from '../../data/dataset.js';
import { lrAt, type Schedule } from '../optim/index.js';
import { readLoss } from '../trainer.js';
import type { LearningRule } from '../rule.js';

/** How a model learns from a dataset: what `train` takes, without the test set. */
export interface FitSettings {
  epochs: number;
  batchSize: number;
  /** Seeds the data order. */
  seed: number;
  lr: number;
  schedule?: Schedule;
}

export interface FitHooks {
  normalization?: Normalization;
  /** Before each epoch's order is drawn (random labels are redrawn here). */
  beforeEpoch?: (epoch: number) => void;
  /** After every step (the saliency mask puts non-salient weights back here). */
  afterStep?: () => void;
  /** After every step, with the loss (progress bars). */
  onStep?: (p: { epoch: number; batch: number; batches: number; loss: number }) => void;
}

/**
 * Epochs of `rule.trainStep` over `ds`, in the order, learning rates and steps of `train` (same seed, same batches),
 * so a model retrained here is the one `train` would make on the same data.
 */
export async function trainOn(rule: LearningRule, ds: ImageDataset, s: FitSettings, h: FitHooks = {}): Promise<void> {
  const it = new BatchIterator(ds, { batchSize: s.batchSize, seed: s.seed, normalization: h.normalization });
  const schedule = s.schedule ?? { type: 'constant' };
  let step = 0;
  for (let e = 0; e < s.epochs; e++) {
    h.beforeEpoch?.(e);
    let batch = 0;
    for (const b of it.restOfEpoch()) {
      rule.setLr(lrAt(s.lr, schedule, step++));
      const loss = await readLoss(
        tidy(() => {
          const { x, y } = toTensors(b, rule.backend);
          return rule.trainStep(x, y).loss;
        }),
      );
      h.afterStep?.();
      h.onStep?.({ epoch: e, batch: ++batch, batches: it.batchesPerEpoch, loss });
    }
  }
}
