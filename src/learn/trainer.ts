import type { Backend } from '../backend/backend.js';
import { tidy } from '../core/scope.js';
import { argmax } from '../ops/index.js';
import type { Tensor } from '../core/tensor.js';
import { BatchIterator, toTensors, type Batch, type BatchCursor, type Normalization } from '../data/batches.js';
import type { ImageDataset } from '../data/dataset.js';
import { lrAt, type Schedule } from './optim/index.js';
import type { LearningRule } from './rule.js';

export interface Progress {
  epoch: number;
  /** Batches done in this epoch, and per epoch. */
  batch: number;
  batches: number;
  samplesSeen: number;
  loss: number;
  samplesPerSecond: number;
}

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  testAccuracy: number;
  seconds: number;
  samplesPerSecond: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  lr: number;
  schedule?: Schedule;
  normalization?: Normalization;
  /** Resume the data order exactly (from a checkpoint). */
  cursor?: BatchCursor;
  onProgress?: (p: Progress) => void;
  /** After each epoch, with the cursor a resumed run starts from and the rule (awaited: save a checkpoint here). */
  onEpoch?: (e: EpochReport, cursor: BatchCursor, rule: LearningRule) => void | Promise<void>;
  /** Give the event loop a turn every this many batches (progress bars, UI); default 4. */
  yieldEvery?: number;
  /**
   * What the rule learns from instead of a batch's pixels, e.g. a frozen stage's features; the next batch's are
   * asked for while this one trains. Test accuracy goes through it too.
   */
  features?: Features;
}

/** Inputs computed from a batch (any shape [B, ...]); the labels stay the batch's. */
export type Features = (b: Batch) => Promise<{ x: Float32Array; shape: number[] }>;

/** Share of `ds` that `predict` classifies correctly, in batches (of `features` of them, when given). */
export async function evaluate(
  predict: (x: Tensor) => Tensor,
  backend: Backend,
  ds: ImageDataset,
  batchSize = 256,
  normalization?: Normalization,
  features?: Features,
): Promise<number> {
  const it = new BatchIterator(ds, { batchSize, shuffle: false, normalization });
  let correct = 0;
  for (const b of it.restOfEpoch()) {
    const input = features ? { ...(await features(b)), y: b.y } : b;
    const predicted = tidy(() => argmax(predict(toTensors(input, backend).x), -1));
    const pred = await predicted.data();
    predicted.dispose();
    for (let i = 0; i < pred.length; i++) if (pred[i] === b.y[i]) correct++;
  }
  return correct / ds.count;
}

/** The value of a scalar loss tensor (the step's one wait for the device), freeing it. */
export async function readLoss(loss: Tensor): Promise<number> {
  const v = (await loss.data())[0];
  loss.dispose();
  return v;
}

/** Epochs of a learning rule over a dataset, with progress and per-epoch test accuracy. */
export async function train(
  rule: LearningRule,
  trainSet: ImageDataset,
  testSet: ImageDataset,
  o: TrainOptions,
): Promise<{ epochs: EpochReport[]; iterator: BatchIterator }> {
  const it = new BatchIterator(trainSet, {
    batchSize: o.batchSize,
    seed: o.seed,
    normalization: o.normalization,
    cursor: o.cursor,
  });
  const schedule = o.schedule ?? { type: 'constant' };
  const epochs: EpochReport[] = [];
  let step = (o.cursor?.epoch ?? 0) * it.batchesPerEpoch + Math.ceil((o.cursor?.position ?? 0) / o.batchSize);
  const firstEpoch = o.cursor?.epoch ?? 0;
  for (let e = firstEpoch; e < o.epochs; e++) {
    const t0 = performance.now();
    let seen = 0,
      lossSum = 0,
      batch = 0;
    const batches = it.restOfEpoch();
    const ask = () => {
      const r = batches.next();
      if (r.done) return null;
      const f = o.features?.(r.value);
      f?.catch(() => undefined); // a failure surfaces where it is awaited, not as an unhandled rejection
      return { b: r.value, f };
    };
    for (let cur = ask(); cur; ) {
      const next = ask(); // with features, the next batch's are computed while this one trains
      const b = cur.b,
        input = cur.f ? { ...(await cur.f), y: b.y } : b;
      rule.setLr(lrAt(o.lr, schedule, step++));
      const loss = await readLoss(
        tidy(() => {
          const { x, y } = toTensors(input, rule.backend);
          return rule.trainStep(x, y).loss;
        }),
      );
      cur = next;
      seen += b.y.length;
      lossSum += loss * b.y.length;
      batch++;
      const sps = seen / ((performance.now() - t0) / 1000);
      o.onProgress?.({ epoch: e, batch, batches: it.batchesPerEpoch, samplesSeen: seen, loss, samplesPerSecond: sps });
      if (batch % (o.yieldEvery ?? 4) === 0) await new Promise((r) => setTimeout(r, 0));
    }
    const seconds = (performance.now() - t0) / 1000;
    const report = {
      epoch: e,
      trainLoss: lossSum / seen,
      testAccuracy: await evaluate((x) => rule.predict(x), rule.backend, testSet, 256, o.normalization, o.features),
      seconds,
      samplesPerSecond: seen / seconds,
    };
    epochs.push(report);
    await o.onEpoch?.(report, it.getCursor(), rule);
  }
  return { epochs, iterator: it };
}
