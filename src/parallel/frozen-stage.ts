import * as Comlink from 'comlink';
import { createBackend } from '../backend/select.js';
import { fail } from '../core/errors.js';
import { tidy } from '../core/scope.js';
import { argmax, tensor } from '../ops/index.js';
import { BatchIterator, type Normalization } from '../data/batches.js';
import type { ImageDataset } from '../data/dataset.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import type { LearningRule } from '../learn/rule.js';
import { lrAt } from '../learn/optim/index.js';
import { readLoss, type EpochReport, type TrainOptions } from '../learn/trainer.js';
import { WorkerPool } from './pool.js';
import type { Spawner } from './spawn.js';
import type { FrozenOptions } from './frozen-session.js';

export interface FrozenStageOptions extends FrozenOptions {
  spawn: Spawner;
  /** Longest one batch may take in the worker (default 10 minutes). */
  timeoutMs?: number;
}

/**
 * A frozen feature extractor: an ONNX model (say the first layers of the network you shipped, exported with
 * `exportOnnx(model, { upTo })`) run by onnxruntime-web inside a stage worker. `trainOnFrozen` trains a
 * layerhive head on its outputs — "personalise the last layers" — with any learning rule.
 */
export class FrozenStage {
  private constructor(private pool: WorkerPool, readonly sampleShape: number[]) {}

  /** Starts the worker and loads the model; `sampleShape` is one input sample's shape, e.g. [1, 28, 28]. */
  static async open(bytes: Uint8Array, sampleShape: number[], o: FrozenStageOptions): Promise<FrozenStage> {
    const pool = new WorkerPool(o.spawn, 1, { timeoutMs: o.timeoutMs });
    try {
      const copy = new Uint8Array(bytes); // a copy to transfer (a Node Buffer's slice() would share memory)
      await pool.call(0, 'frozen model', (s) => s.loadFrozen(Comlink.transfer(copy, [copy.buffer]), { ortUrl: o.ortUrl }));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return new FrozenStage(pool, sampleShape);
  }

  /** The frozen model's outputs for `batch` samples laid out one after the other. */
  async features(x: Float32Array, batch: number): Promise<{ data: Float32Array; shape: number[] }> {
    const copy = x.slice();
    return this.pool.call(0, 'frozen model', (s) => s.runFrozen(Comlink.transfer(copy, [copy.buffer]), [batch, ...this.sampleShape]));
  }

  close(): Promise<void> { return this.pool.close(); }
}

const sampleOf = (shape: number[]) => shape.slice(1);

/**
 * Trains a head (a rule whose inputShape is the frozen model's output per sample) on the frozen stage's features
 * of each batch: the worker computes the next batch's features while this thread trains on the current one.
 * Same batches as `train` (seed, cursor); per-epoch test accuracy of the whole frozen + head model.
 */
export async function trainOnFrozen(stage: FrozenStage, head: RuleConfig, trainSet: ImageDataset, testSet: ImageDataset,
  o: TrainOptions & { backend?: string }): Promise<{ rule: LearningRule; epochs: EpochReport[] }> {
  const backend = await createBackend(o.backend ?? 'wasm');
  const rule = createRule(head, backend);
  const it = new BatchIterator(trainSet, { batchSize: o.batchSize, seed: o.seed, normalization: o.normalization, cursor: o.cursor });
  const featureSize = head.inputShape.reduce((p, d) => p * d, 1);
  const check = (f: { shape: number[] }) => {
    const n = sampleOf(f.shape).reduce((p, d) => p * d, 1);
    if (n !== featureSize) fail('SHAPE_MISMATCH', `the frozen model gives [${sampleOf(f.shape).join(', ')}] per sample but the head takes [${head.inputShape.join(', ')}]`, 'set the head\'s inputShape to the frozen model\'s output shape');
  };
  const epochs: EpochReport[] = [];
  try {
    let step = (o.cursor?.epoch ?? 0) * it.batchesPerEpoch + Math.ceil((o.cursor?.position ?? 0) / o.batchSize);
    for (let e = o.cursor?.epoch ?? 0; e < o.epochs; e++) {
      const t0 = performance.now();
      const batches = it.restOfEpoch();
      const fetch = () => { const r = batches.next(); return r.done ? null : { b: r.value, f: stage.features(r.value.x, r.value.y.length) }; };
      let seen = 0, lossSum = 0, batch = 0;
      for (let cur = fetch(); cur; ) {
        const next = fetch(); // the worker starts on the next batch now
        const f = await cur.f;
        check(f);
        rule.setLr(lrAt(o.lr, o.schedule ?? { type: 'constant' }, step++));
        const loss = await readLoss(tidy(() => rule.trainStep(tensor(f.data, [cur!.b.y.length, ...head.inputShape], 'float32', backend), tensor(cur!.b.y, [cur!.b.y.length], 'int32', backend)).loss));
        seen += cur.b.y.length; lossSum += loss * cur.b.y.length; batch++;
        o.onProgress?.({ epoch: e, batch, batches: it.batchesPerEpoch, samplesSeen: seen, loss, samplesPerSecond: seen / ((performance.now() - t0) / 1000) });
        cur = next;
      }
      const seconds = (performance.now() - t0) / 1000;
      const report = { epoch: e, trainLoss: lossSum / seen, testAccuracy: await frozenAccuracy(stage, rule, head.inputShape, testSet, o.normalization), seconds, samplesPerSecond: seen / seconds };
      epochs.push(report);
      await o.onEpoch?.(report, it.getCursor(), rule);
    }
  } catch (err) {
    rule.dispose();
    throw err;
  }
  return { rule, epochs };
}

/** Share of `ds` the frozen stage + head classify correctly. */
export async function frozenAccuracy(stage: FrozenStage, rule: LearningRule, featureShape: number[], ds: ImageDataset, normalization?: Normalization): Promise<number> {
  const it = new BatchIterator(ds, { batchSize: 256, shuffle: false, normalization });
  let correct = 0;
  for (const b of it.restOfEpoch()) {
    const f = await stage.features(b.x, b.y.length);
    const pred = tidy(() => argmax(rule.predict(tensor(f.data, [b.y.length, ...featureShape], 'float32', rule.backend)), -1));
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < p.length; i++) if (p[i] === b.y[i]) correct++;
  }
  return correct / ds.count;
}
