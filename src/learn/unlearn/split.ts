import { fail } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { epochOrder } from '../../data/batches.js';
import type { ImageDataset } from '../../data/dataset.js';

/** The samples to forget and the ones to keep, both copies of rows of one training set. */
export interface ForgetSplit {
  forget: ImageDataset;
  retain: ImageDataset;
  /** Training-set indices of the forget samples, ascending. */
  forgetIndices: Uint32Array;
}

/** A new dataset holding rows `indices` of `ds`, in that order (pixels and labels copied). */
export function pick(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = new Uint8Array(indices.length * per),
    labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    images.set(ds.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = ds.labels[j];
  }
  return { images, labels, count: indices.length, shape: [...ds.shape], classes: ds.classes };
}

/** Checks `indices` against a training set of `count` samples: whole, in range, not repeated; sorted ascending. */
export function checkIndices(indices: ArrayLike<number>, count: number): Uint32Array {
  if (indices.length === 0)
    fail('INVALID_ARGUMENT', 'the forget set is empty', 'name at least one training sample to forget');
  const seen = new Uint8Array(count);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!Number.isInteger(j) || j < 0 || j >= count)
      fail(
        'INVALID_ARGUMENT',
        `forget index ${j} is outside the training set's ${count} samples`,
        `pass whole numbers in [0, ${count})`,
      );
    if (seen[j]) fail('INVALID_ARGUMENT', `forget index ${j} is listed twice`, 'list each sample once');
    seen[j] = 1;
  }
  if (indices.length === count)
    fail('INVALID_ARGUMENT', 'the forget set is the whole training set', 'train a new model instead');
  return Uint32Array.from(indices).sort();
}

/** Splits `train` into the samples `indices` names (forget) and all the others (retain, in their order). */
export function splitByIndices(train: ImageDataset, indices: ArrayLike<number>): ForgetSplit {
  const forgetIndices = checkIndices(indices, train.count);
  const isForget = new Uint8Array(train.count);
  for (const j of forgetIndices) isForget[j] = 1;
  const retainIndices: number[] = [];
  for (let j = 0; j < train.count; j++) if (!isForget[j]) retainIndices.push(j);
  return { forget: pick(train, forgetIndices), retain: pick(train, retainIndices), forgetIndices };
}

/** Class-wise forgetting: every training sample of class `c`. */
export function splitByClass(train: ImageDataset, c: number): ForgetSplit {
  if (!Number.isInteger(c) || c < 0 || c >= train.classes)
    fail(
      'INVALID_ARGUMENT',
      `class ${c} is not one of the ${train.classes} classes`,
      `pass a class in [0, ${train.classes})`,
    );
  const indices: number[] = [];
  for (let j = 0; j < train.count; j++) if (train.labels[j] === c) indices.push(j);
  if (!indices.length)
    fail('INVALID_ARGUMENT', `the training set holds no sample of class ${c}`, 'pick a class the model was taught');
  return splitByIndices(train, indices);
}

/** Random forgetting: `fraction` of the training set (rounded, at least one), drawn from `Rng.stream(seed, …)`. */
export function randomForgetIndices(count: number, fraction: number, seed: number): Uint32Array {
  if (!(fraction > 0 && fraction < 1))
    fail('INVALID_ARGUMENT', `forget fraction ${fraction} is not in (0, 1)`, 'pass a fraction such as 0.1');
  const n = Math.max(1, Math.round(count * fraction));
  return epochOrder(count, Rng.stream(seed, 'unlearn/forget-set')).slice(0, n).sort();
}

/** `a`'s samples followed by `b`'s, in a new dataset (the same image shape and classes). */
export function concatDatasets(a: ImageDataset, b: ImageDataset): ImageDataset {
  if (a.shape.some((d, i) => d !== b.shape[i]) || a.classes !== b.classes)
    fail('SHAPE_MISMATCH', 'the two datasets hold different images or classes', 'split one training set');
  const images = new Uint8Array(a.images.length + b.images.length);
  images.set(a.images);
  images.set(b.images, a.images.length);
  const labels = new Uint8Array(a.count + b.count);
  labels.set(a.labels);
  labels.set(b.labels, a.count);
  return { images, labels, count: a.count + b.count, shape: [...a.shape], classes: a.classes };
}
