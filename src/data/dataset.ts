import { fail } from '../core/errors.js';
import type { IdxArray } from './idx.js';

/** Images as bytes, one label byte per image. For MNIST: count 60 000 or 10 000, shape [1, 28, 28], classes 10. */
export interface ImageDataset {
  /** count × channels × rows × cols pixels, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  shape: [channels: number, rows: number, cols: number];
  classes: number;
}

export interface DatasetOptions {
  /** Labels must lie in [0, classes); 10 by default. */
  classes?: number;
}

/**
 * A dataset from parsed IDX images [N, rows, cols] and labels [N]; `names` label errors. Everything is
 * checked before anything is returned. The arrays are the IDX views, not copies.
 */
export function datasetFromIdx(
  images: IdxArray,
  labels: IdxArray,
  names: { images: string; labels: string },
  options: DatasetOptions = {},
): ImageDataset {
  const classes = options.classes ?? 10;
  if (!Number.isInteger(classes) || classes < 1 || classes > 256) {
    fail(
      'INVALID_ARGUMENT',
      `classes is ${classes}; expected an integer in [1, 256]`,
      'pass the number of label values, such as 10 for MNIST',
    );
  }
  if (images.dims.length !== 3) {
    fail(
      'DATA_INVALID',
      `${names.images}: expected image dims [N, rows, cols], found [${images.dims.join(', ')}]`,
      'pass an idx3 images file (such as train-images-idx3-ubyte) as the images',
    );
  }
  if (labels.dims.length !== 1) {
    fail(
      'DATA_INVALID',
      `${names.labels}: expected label dims [N], found [${labels.dims.join(', ')}]`,
      'pass an idx1 labels file (such as train-labels-idx1-ubyte) as the labels',
    );
  }
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) {
    fail(
      'DATA_INVALID',
      `${names.images} holds ${count} images but ${names.labels} holds ${labels.dims[0]} labels`,
      'pair the images file with the labels file of the same split (train with train, t10k with t10k)',
    );
  }
  const lab = labels.data;
  for (let i = 0; i < count; i++) {
    if (lab[i] >= classes) {
      fail(
        'DATA_INVALID',
        `${names.labels}: label ${i} is ${lab[i]}; expected a class in [0, ${classes})`,
        `check the labels file, or pass classes > ${lab[i]} if the data really has more classes`,
      );
    }
  }
  return { images: images.data, labels: lab, count, shape: [1, rows, cols], classes };
}

/** Images [start, start + count) as views on the same bytes: for `--limit` and held-out splits. */
export function subset(ds: ImageDataset, start: number, count: number): ImageDataset {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > ds.count) {
    fail(
      'INVALID_ARGUMENT',
      `subset [${start}, ${start} + ${count}) is outside the dataset's ${ds.count} images`,
      `pass non-negative integers with start + count ≤ ${ds.count}`,
    );
  }
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return {
    images: ds.images.subarray(start * per, (start + count) * per),
    labels: ds.labels.subarray(start, start + count),
    count,
    shape: [...ds.shape],
    classes: ds.classes,
  };
}
