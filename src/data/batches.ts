import type { Backend } from '../backend/backend.js';
import { fail } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import { tensor } from '../ops/creation.js';
import type { ImageDataset } from './dataset.js';

/** Pixels become `(v / 255 − mean) / std`. */
export interface Normalization {
  mean: number;
  std: number;
}
/** MNIST's training-set mean and standard deviation of v / 255. */
export const MNIST_NORMALIZATION: Readonly<Normalization> = Object.freeze({ mean: 0.1307, std: 0.3081 });
/** Plain v / 255, in [0, 1]. */
export const UNIT_SCALE: Readonly<Normalization> = Object.freeze({ mean: 0, std: 1 });

/** Float32 pixels from bytes; `out` (same length) is reused when given. */
export function normalizePixels(
  pixels: Uint8Array,
  norm: Normalization = MNIST_NORMALIZATION,
  out?: Float32Array,
): Float32Array {
  const table = lookupTable(norm);
  const o = out ?? new Float32Array(pixels.length);
  if (o.length !== pixels.length) {
    fail(
      'INVALID_ARGUMENT',
      `out holds ${o.length} values but there are ${pixels.length} pixels`,
      'pass an out array of the same length, or none',
    );
  }
  for (let i = 0; i < pixels.length; i++) o[i] = table[pixels[i]];
  return o;
}

// A byte has 256 values, so one table replaces a division per pixel and rounds each value the same way every time.
function lookupTable(norm: Normalization): Float32Array {
  if (!Number.isFinite(norm.mean) || !(norm.std > 0) || !Number.isFinite(norm.std)) {
    fail(
      'INVALID_ARGUMENT',
      `normalisation mean ${norm.mean}, std ${norm.std} is not usable`,
      'use a finite mean and a positive finite std, such as MNIST_NORMALIZATION',
    );
  }
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = (v / 255 - norm.mean) / norm.std;
  return t;
}

/** A Fisher–Yates permutation of [0, count), drawn from `rng` (which it advances). */
export function epochOrder(count: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = uniformInt(rng, i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

// Rng.int uses 24 bits, slightly biased for n in the tens of thousands; rejection on 32 bits is exact.
function uniformInt(rng: Rng, n: number): number {
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
  let r: number;
  do r = rng.nextU32();
  while (r >= limit);
  return r % n;
}

/**
 * Where an iterator stands: `position` samples into epoch `epoch`, whose order is drawn from a generator in
 * state `rngState`. Plain JSON, so a checkpoint can store it. Positions count samples, not batches.
 */
export interface BatchCursor {
  epoch: number;
  position: number;
  rngState: number[];
}

export interface BatchOptions {
  batchSize: number;
  /** Seeds the shuffling generator; ignored when resuming from `cursor`. Default 0. */
  seed?: number;
  /** Draw a new order every epoch (default true); false keeps the dataset's order, e.g. for evaluation. */
  shuffle?: boolean;
  /** Drop the last batch of an epoch when it is smaller than batchSize (default false: keep it). */
  dropLast?: boolean;
  /** Default MNIST_NORMALIZATION; UNIT_SCALE for plain v / 255. */
  normalization?: Normalization;
  /** Resume exactly where `getCursor()` was taken. */
  cursor?: BatchCursor;
}

export interface Batch {
  /** [B, C, H, W], normalised. */
  x: Float32Array;
  y: Int32Array;
  /** The dataset index of each sample. */
  indices: Uint32Array;
  /** [B, C, H, W]; B is below batchSize only for a kept last batch. */
  shape: [number, number, number, number];
  epoch: number;
}

/** Batches over a dataset, epoch after epoch, in a seeded order that a cursor can resume. */
export class BatchIterator {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly table: Float32Array;
  private readonly rng: Rng;
  private epoch: number;
  private position: number;
  /** The generator's state before this epoch's order was drawn: what a cursor stores. */
  private epochRngState: number[];
  private order: Uint32Array | null = null;

  constructor(dataset: ImageDataset, options: BatchOptions) {
    const { batchSize, shuffle = true, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      fail('INVALID_ARGUMENT', `batch size ${batchSize} is not a positive integer`, 'pass a batch size such as 64');
    }
    if (dataset.count === 0) {
      fail(
        'DATA_INVALID',
        'the dataset holds no images, so there is nothing to batch',
        'check the data files, or the --limit you passed',
      );
    }
    if (dropLast && dataset.count < batchSize) {
      fail(
        'INVALID_ARGUMENT',
        `dropLast with batch size ${batchSize} leaves no batch of the ${dataset.count} images`,
        'use a smaller batch size, or keep the last batch (dropLast: false)',
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.table = lookupTable(options.normalization ?? MNIST_NORMALIZATION);
    this.rng = new Rng(options.seed ?? 0);
    const c = options.cursor;
    if (c) {
      checkCursor(c, this.epochEnd);
      this.rng.setState(c.rngState);
      this.epoch = c.epoch;
      this.position = c.position;
    } else {
      this.epoch = 0;
      this.position = 0;
    }
    this.epochRngState = this.rng.getState();
  }

  /** Samples served per epoch: all of them, or whole batches only with dropLast. */
  get epochEnd(): number {
    const n = this.dataset.count;
    return this.dropLast ? n - (n % this.batchSize) : n;
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.epochEnd / this.batchSize);
  }

  /** The next batch, starting the next epoch when this one is done. */
  next(): Batch {
    if (this.position >= this.epochEnd) this.startNextEpoch();
    const order = this.currentOrder();
    const [c, h, w] = this.dataset.shape;
    const per = c * h * w;
    const b = Math.min(this.batchSize, this.epochEnd - this.position);
    const indices = order.slice(this.position, this.position + b);
    const x = new Float32Array(b * per);
    const y = new Int32Array(b);
    const { images, labels } = this.dataset;
    const table = this.table;
    for (let i = 0; i < b; i++) {
      const src = indices[i] * per,
        dst = i * per;
      for (let k = 0; k < per; k++) x[dst + k] = table[images[src + k]];
      y[i] = labels[indices[i]];
    }
    this.position += b;
    return { x, y, indices, shape: [b, c, h, w], epoch: this.epoch };
  }

  /** The batches left in the current epoch (all of them at an epoch's start). */
  *restOfEpoch(): Generator<Batch, void, undefined> {
    if (this.position >= this.epochEnd) this.startNextEpoch();
    const epoch = this.epoch;
    while (this.epoch === epoch && this.position < this.epochEnd) yield this.next();
  }

  getCursor(): BatchCursor {
    // At an epoch's end the cursor names the next epoch, so a resumed run never sees a finished one.
    if (this.position >= this.epochEnd) {
      this.currentOrder();
      return { epoch: this.epoch + 1, position: 0, rngState: this.rng.getState() };
    }
    return { epoch: this.epoch, position: this.position, rngState: [...this.epochRngState] };
  }

  private startNextEpoch(): void {
    this.currentOrder(); // an epoch that was skipped over still draws its order, keeping the stream aligned
    this.epoch++;
    this.position = 0;
    this.order = null;
    this.epochRngState = this.rng.getState();
  }

  private currentOrder(): Uint32Array {
    if (this.order === null) {
      this.order = this.shuffle ? epochOrder(this.dataset.count, this.rng) : identity(this.dataset.count);
    }
    return this.order;
  }
}

function identity(n: number): Uint32Array {
  const o = new Uint32Array(n);
  for (let i = 0; i < n; i++) o[i] = i;
  return o;
}

function checkCursor(c: BatchCursor, epochEnd: number): void {
  const hint = 'pass a cursor from getCursor() of an iterator over the same dataset with the same dropLast';
  if (
    !Number.isInteger(c.epoch) ||
    c.epoch < 0 ||
    !Number.isInteger(c.position) ||
    c.position < 0 ||
    c.position > epochEnd
  ) {
    fail(
      'INVALID_ARGUMENT',
      `cursor epoch ${c.epoch}, position ${c.position} does not fit a dataset epoch of ${epochEnd} samples`,
      hint,
    );
  }
  const s = c.rngState;
  if (
    !Array.isArray(s) ||
    s.length !== 4 ||
    s.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff) ||
    s.every((v) => v === 0)
  ) {
    fail('INVALID_ARGUMENT', `cursor rngState ${JSON.stringify(s)} is not four uint32s (not all zero)`, hint);
  }
}

/** The batch as tensors on `backend` (or the current default): x float32 [B, C, H, W], y int32 [B]. */
export function toTensors(
  batch: Pick<Batch, 'x' | 'y'> & { shape: readonly number[] },
  backend?: Backend,
): { x: Tensor; y: Tensor } {
  const x = tensor(batch.x, batch.shape, 'float32', backend);
  try {
    return { x, y: tensor(batch.y, [batch.y.length], 'int32', backend) };
  } catch (e) {
    x.dispose();
    throw e;
  }
}
