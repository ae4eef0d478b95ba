import { dispose, tidy } from '../../core/scope.js';
import { Rng } from '../../core/rng.js';
import { add, assign, mul } from '../../ops/index.js';
import { BatchIterator, toTensors } from '../../data/batches.js';
import type { ImageDataset } from '../../data/dataset.js';
import { createRule } from '../create.js';
import type { LearningRule } from '../rule.js';
import { trainOn, type FitSettings } from './train-on.js';
import { MaskedWeights, topFractionMask } from './mask.js';
import type { UnlearnOptions } from './options.js';
import { UpdateProbe } from './probe.js';
import { saliency } from './saliency.js';
import { concatDatasets } from './split.js';
import { cloneRule, release, snapshot } from './weights.js';

/** The options with their defaults filled in. */
export type Resolved = Required<Omit<UnlearnOptions, 'normalization' | 'optimizer' | 'retrain' | 'onStep'>> &
  Pick<UnlearnOptions, 'normalization' | 'onStep'> & { optimizer: UnlearnOptions['config']['optimizer'] };

const settings = (o: Resolved): FitSettings => ({ epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, lr: o.lr });

/** Retrain: a fresh model from the config's seed, trained on the retain set only. */
export async function retrain(trained: LearningRule, o: Resolved, s: FitSettings): Promise<LearningRule> {
  const fresh = createRule(o.config, trained.backend);
  return guarded(fresh, () => trainOn(fresh, o.retain, s, { normalization: o.normalization, onStep: o.onStep }));
}

/** FT: the trained model fine-tuned on the retain set only (catastrophic forgetting of the rest). */
export async function finetune(rule: LearningRule, o: Resolved): Promise<LearningRule> {
  const student = cloneRule(rule, o.config, o.optimizer);
  return guarded(student, () =>
    trainOn(student, o.retain, settings(o), { normalization: o.normalization, onStep: o.onStep }),
  );
}

/**
 * GA: θ ← θ + η·∇ℓ_f(θ) over forget batches, with ∇ the rule's own update direction (`UpdateProbe`): for every rule
 * the step that undoes what its training step would do. Buffers (batch-norm statistics) stay as trained.
 */
export async function gradientAscent(rule: LearningRule, o: Resolved): Promise<LearningRule> {
  const student = cloneRule(rule, o.config);
  const probe = new UpdateProbe(rule, o.config);
  try {
    const it = new BatchIterator(o.forget, { batchSize: o.batchSize, seed: o.seed, normalization: o.normalization });
    for (let e = 0; e < o.epochs; e++) {
      let batch = 0;
      for (const b of it.restOfEpoch()) {
        const at = snapshot(student);
        tidy(() => {
          const { x, y } = toTensors(b, rule.backend);
          const g = probe.gradient(at, x, y);
          for (const [k, t] of student.params()) assign(t, add(at.params[k], mul(g[k], o.lr)));
        });
        dispose(at);
        o.onStep?.({ epoch: e, batch: ++batch, batches: it.batchesPerEpoch, loss: Number.NaN });
      }
    }
  } catch (e) {
    release(student);
    throw e;
  } finally {
    probe.dispose();
  }
  return student;
}

/**
 * RL (and SalUn's fine-tuning): epochs over forget ∪ retain, shuffled together, with every forget sample's label
 * redrawn uniformly at random each epoch (from `Rng.stream(seed, 'unlearn/random-labels')`), the retain samples
 * keeping theirs. With a mask, the non-salient weights are put back after every step.
 */
export async function randomLabels(rule: LearningRule, o: Resolved, masked: boolean): Promise<LearningRule> {
  const mask = masked
    ? topFractionMask(
        await saliency(rule, o.config, o.forget, { batchSize: o.batchSize, normalization: o.normalization }),
        o.gamma,
      )
    : null;
  const student = cloneRule(rule, o.config, o.optimizer);
  const theta0 = mask ? snapshot(rule) : null;
  const keeper = mask && theta0 ? new MaskedWeights(student, mask, theta0) : null;
  const data = concatDatasets(o.forget, o.retain);
  const rng = Rng.stream(o.seed, 'unlearn/random-labels');
  try {
    return await guarded(student, () =>
      trainOn(student, data, settings(o), {
        normalization: o.normalization,
        beforeEpoch: () => relabel(data, o.forget.count, rng),
        afterStep: keeper ? () => keeper.apply() : undefined,
        onStep: o.onStep,
      }),
    );
  } finally {
    keeper?.dispose();
    if (theta0) dispose(theta0);
  }
}

function relabel(ds: ImageDataset, count: number, rng: Rng): void {
  for (let i = 0; i < count; i++) ds.labels[i] = rng.int(ds.classes);
}

async function guarded(rule: LearningRule, run: () => Promise<void>): Promise<LearningRule> {
  try {
    await run();
  } catch (e) {
    release(rule);
    throw e;
  }
  return rule;
}
