import * as Comlink from 'comlink';
import { createBackend } from '../backend/select.js';
import { fail } from '../core/errors.js';
import type { Batch } from '../data/batches.js';
import type { ImageDataset } from '../data/dataset.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import type { LearningRule } from '../learn/rule.js';
import { train, type EpochReport, type TrainOptions } from '../learn/trainer.js';
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
  private constructor(
    private pool: WorkerPool,
    readonly sampleShape: number[],
  ) {}

  /** Starts the worker and loads the model; `sampleShape` is one input sample's shape, e.g. [1, 28, 28]. */
  static async open(bytes: Uint8Array, sampleShape: number[], o: FrozenStageOptions): Promise<FrozenStage> {
    const pool = new WorkerPool(o.spawn, 1, { timeoutMs: o.timeoutMs });
    try {
      const copy = new Uint8Array(bytes); // a copy to transfer (a Node Buffer's slice() would share memory)
      await pool.call(0, 'frozen model', (s) =>
        s.loadFrozen(Comlink.transfer(copy, [copy.buffer]), { ortUrl: o.ortUrl }),
      );
    } catch (e) {
      await pool.close();
      throw e;
    }
    return new FrozenStage(pool, sampleShape);
  }

  /** The frozen model's outputs for `batch` samples laid out one after the other. */
  async features(x: Float32Array, batch: number): Promise<{ data: Float32Array; shape: number[] }> {
    const copy = x.slice();
    return this.pool.call(0, 'frozen model', (s) =>
      s.runFrozen(Comlink.transfer(copy, [copy.buffer]), [batch, ...this.sampleShape]),
    );
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Trains a head (a rule whose inputShape is the frozen model's output per sample) on the frozen stage's features
 * of each batch: `train` with the stage as its `features`, so the worker computes the next batch's features while
 * this thread trains on the current one. Same batches as `train` (seed, cursor); per-epoch test accuracy of the
 * whole frozen + head model.
 */
export async function trainOnFrozen(
  stage: FrozenStage,
  head: RuleConfig,
  trainSet: ImageDataset,
  testSet: ImageDataset,
  o: TrainOptions & { backend?: string },
): Promise<{ rule: LearningRule; epochs: EpochReport[] }> {
  const rule = createRule(head, await createBackend(o.backend ?? 'wasm'));
  const featureSize = head.inputShape.reduce((p, d) => p * d, 1);
  const features = async (b: Batch) => {
    const f = await stage.features(b.x, b.y.length);
    const sample = f.shape.slice(1);
    if (sample.reduce((p, d) => p * d, 1) !== featureSize)
      fail(
        'SHAPE_MISMATCH',
        `the frozen model gives [${sample.join(', ')}] per sample but the head takes [${head.inputShape.join(', ')}]`,
        "set the head's inputShape to the frozen model's output shape",
      );
    return { x: f.data, shape: [b.y.length, ...head.inputShape] };
  };
  try {
    return { rule, epochs: (await train(rule, trainSet, testSet, { ...o, features })).epochs };
  } catch (err) {
    rule.dispose();
    throw err;
  }
}
