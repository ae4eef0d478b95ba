import * as lh from '../../src/index.js';
import type { Attribution, LearningRule, MethodName, RuleConfig } from '../../src/index.js';
import { heldOut, SampleStore, type Sample } from './sample-store.js';

export interface LearnPoint {
  step: number;
  loss: number;
  /** On the samples kept aside, at the end of an epoch; absent when none are kept aside. */
  accuracy?: number;
  /** Share of the run done, 0…1. */
  done: number;
}
export interface Status {
  source: string;
  version: number | null;
  backends: string[];
  plan: string;
  samples: number;
  /** How many of the samples are kept aside to test on (never learned from): see `heldOut`. */
  heldOut: number;
}
/** Right answers out of how many. */
export interface Score {
  correct: number;
  total: number;
}
/** A model's accuracy on your samples kept aside and on the MNIST digits shipped with the app. */
export interface Accuracy {
  mine: Score;
  replay: Score;
}

/** An ONNX model that was read but does not fit this app; its message, after the file's name, says why in words. */
export class ImportRefused extends Error {
  override name = 'ImportRefused';
}

const STORE = 'layerhive-app',
  NAME = 'my-digits';

/**
 * Everything the app does with the model, off the main thread where it is heavy: the network (a CNN trained by
 * backprop, shipped as base/), personalised by tpSGD on its last layer across two stage workers (the hidden
 * layers stay as shipped: their learning rate is 0), explained by the attribution methods on the same workers,
 * and kept in IndexedDB as versions.
 */
export class Personalizer {
  readonly store = new lh.IdbCheckpointStore(STORE);
  readonly samples = new SampleStore();
  private pool: lh.WorkerPool;
  private backend!: lh.Backend;
  private explainer: (lh.Explainable & { close(): Promise<void> }) | null = null;
  config!: RuleConfig;
  rule!: LearningRule;
  status!: Status;
  private replay!: lh.ImageDataset;
  private costs!: lh.GroupCost[];

  constructor(
    workerUrl: URL,
    private workerBackend = 'wasm',
    private workers = 2,
  ) {
    // the workers start now, with the page: learning and explaining later fetch nothing
    this.pool = new lh.WorkerPool(lh.webSpawner(workerUrl), workers);
  }

  /** Loads the newest personalised version from IndexedDB, or the base model shipped with the app. */
  async start(base: URL): Promise<Status> {
    this.backend = await lh.createBackend('wasm');
    const [images, labels] = await Promise.all(
      ['replay-images.bin', 'replay-labels.bin'].map(
        async (f) => new Uint8Array(await (await fetch(new URL(f, base))).arrayBuffer()),
      ),
    );
    this.replay = { images, labels, count: labels.length, shape: [1, 28, 28], classes: 10 };
    const versions = await this.store.list(NAME);
    let source: string,
      version: number | null = null;
    if (versions.length) {
      const ck = await this.store.load(NAME, { fallback: true });
      this.config = ck.config;
      this.rule = lh.restoreRule(ck, this.backend);
      source = `your model (version ${ck.info.version})`;
      version = ck.info.version;
    } else {
      const ck = await lh.fetchCheckpoint(new URL('base/', base).href);
      // the shipped network, handed to tpSGD: only the output layer learns on the device
      this.config = {
        ...ck.config,
        rule: 'tpsgd',
        optimizer: { type: 'adam', lr: 5e-3 },
        tpsgd: { hiddenLrScale: 0 },
        streams: 'named', // a new config: its projections come from the named stream (stored ones keep theirs)
      };
      this.rule = lh.createRule(this.config, this.backend);
      lh.copyWeights(ck, this.rule);
      const accuracy = Number((ck.meta.run as { testAccuracy?: number })?.testAccuracy ?? 0);
      source = `base model (backprop CNN, ${(100 * accuracy).toFixed(1)}% on MNIST)`;
    }
    const inits = await Promise.all(
      Array.from({ length: this.workers }, (_, i) =>
        this.pool.call(i, 'start', (s) =>
          s.init({ rule: this.config, backend: this.workerBackend, label: `worker ${i}` }),
        ),
      ),
    );
    this.costs = lh.measureCosts(this.config, this.backend); // once, at start: learning then measures nothing here
    const plan = lh.makePlan(this.config, this.costs, this.workers);
    this.status = {
      source,
      version,
      backends: inits.map((r) => r.backend),
      plan: lh.formatPlan(plan),
      samples: 0,
      heldOut: 0,
    };
    await this.countSamples();
    return this.status;
  }

  /** Class probabilities for one 28×28 drawing (one forward pass here: about a millisecond). */
  async predict(pixels: Uint8Array): Promise<Float64Array> {
    const x = lh.normalizePixels(pixels);
    const probs = lh.tidy(() => lh.softmax(this.rule.predict(lh.tensor(x, [1, 1, 28, 28], 'float32', this.backend))));
    const v = Float64Array.from((await probs.data()) as Float32Array);
    probs.dispose();
    return v;
  }

  async addSample(pixels: Uint8Array, label: number): Promise<void> {
    await this.samples.add(pixels, label);
    await this.countSamples();
  }

  /** Counted, not incremented: the page says what IndexedDB holds (another tab may have added some too). */
  private async countSamples(): Promise<void> {
    const all = await this.samples.all();
    this.status.samples = all.length;
    this.status.heldOut = heldOut(all).size;
  }

  private dataset(samples: Sample[], repeat: number): lh.ImageDataset {
    const n = samples.length * repeat;
    const images = new Uint8Array(n * 784),
      labels = new Uint8Array(n);
    for (let r = 0; r < repeat; r++)
      samples.forEach((s, i) => {
        images.set(s.pixels, (r * samples.length + i) * 784);
        labels[r * samples.length + i] = s.label;
      });
    return { images, labels, count: n, shape: [1, 28, 28], classes: 10 };
  }

  /** The model's accuracy on `test` (your samples kept aside) and on the replay digits, run on the workers. */
  async accuracy(test: Sample[]): Promise<Accuracy> {
    const model = await this.explainable();
    const score = async (images: Uint8Array, labels: ArrayLike<number>): Promise<Score> => {
      const n = labels.length,
        B = 50;
      let correct = 0;
      for (let i = 0; i < n; i += B) {
        const b = Math.min(B, n - i),
          x = new Float32Array(b * 784);
        for (let k = 0; k < b; k++)
          lh.normalizePixels(
            images.subarray((i + k) * 784, (i + k + 1) * 784),
            undefined,
            x.subarray(k * 784, (k + 1) * 784),
          );
        const s = await model.scores(x, b);
        for (let k = 0; k < b; k++) {
          const row = Array.from(s.subarray(k * 10, k * 10 + 10));
          if (row.indexOf(Math.max(...row)) === labels[i + k]) correct++;
        }
      }
      return { correct, total: n };
    };
    const own = this.dataset(test, 1);
    return {
      mine: await score(own.images, own.labels),
      replay: await score(this.replay.images, this.replay.labels),
    };
  }

  /**
   * Personalises on your samples (repeated to about half of each epoch) mixed with shipped MNIST digits (so the
   * model does not forget the others), over the workers; saves a version when done. The samples kept aside
   * (`heldOut`) are not learned from: the accuracy on them, and on the MNIST digits, is measured before and after.
   */
  async learn(
    onPoint: (p: LearnPoint) => void,
    o: { epochs?: number } = {},
  ): Promise<{ before: Accuracy; after: Accuracy; version: number }> {
    const all = await this.samples.all();
    const aside = heldOut(all);
    const mine = all.filter((_, i) => !aside.has(i)),
      kept = all.filter((_, i) => aside.has(i));
    if (!mine.length) throw new Error('draw and label a few digits first');
    const before = await this.accuracy(kept);
    // the workers are about to be set up for training: this explainer's state there goes
    await this.resetExplainer();
    const repeat = Math.max(1, Math.round(this.replay.count / mine.length));
    const own = this.dataset(mine, repeat);
    const images = new Uint8Array(own.images.length + this.replay.images.length),
      labels = new Uint8Array(own.count + this.replay.count);
    images.set(own.images);
    images.set(this.replay.images, own.images.length);
    labels.set(own.labels);
    labels.set(this.replay.labels, own.count);
    const train: lh.ImageDataset = { images, labels, count: labels.length, shape: [1, 28, 28], classes: 10 };
    // the samples kept aside, for the curve (without any, trainParallel still needs a test set: it is not shown)
    const test = this.dataset(kept.length ? kept : mine.slice(-32), 1);
    const initial = await lh.saveGroups(this.rule);
    let step = 0;
    const epochs = o.epochs ?? 6;
    const { rule, report } = await lh.trainParallel(this.config, train, test, {
      workers: this.workers,
      pool: this.pool,
      backend: this.workerBackend,
      initial,
      costs: this.costs,
      epochs,
      batchSize: 16,
      seed: Date.now() % 100000,
      lr: this.config.optimizer.lr,
      syncEvery: 10,
      onProgress: (p) =>
        onPoint({ step: ++step, loss: p.loss, done: (p.epoch * p.batches + p.batch) / (epochs * p.batches) }),
      // the curve's accuracy only on samples kept aside: on those it learns from it would say little
      onEpoch: (e) =>
        onPoint({ step, loss: NaN, accuracy: kept.length ? e.testAccuracy : undefined, done: (e.epoch + 1) / epochs }),
    });
    // the learned state moves into this thread's copy (on its backend; the coordinator's copy may be another)
    for (const [g, st] of Object.entries(await lh.saveGroups(rule))) this.rule.loadGroup(g, st);
    rule.dispose();
    this.status.backends = report.workers.map((w) => w.backend);
    await this.resetExplainer();
    const after = await this.accuracy(kept);
    const ratio = (s: Score) => s.correct / s.total;
    const meta = {
      samples: mine.length,
      heldOut: kept.length,
      replayAccuracy: ratio(after.replay),
      // the versions table's accuracy: on samples this version never learned from, or none
      ...(kept.length ? { accuracy: ratio(after.mine) } : {}),
    };
    const v = await this.store.save(NAME, await lh.captureCheckpoint(this.rule, this.config, { meta }), { keep: 5 });
    this.status.version = v.version;
    this.status.source = `your model (version ${v.version})`;
    return { before, after, version: v.version };
  }

  /** An attribution of the drawing's prediction; model calls run on the workers (CAM methods: one pass here). */
  async explain(pixels: Uint8Array, method: MethodName): Promise<Attribution> {
    const model = await this.explainable();
    const samples =
      method === 'integrated-gradients'
        ? 32
        : method === 'kernel-shap'
          ? 512
          : method === 'lime' || method === 'rise'
            ? 300
            : undefined;
    return lh.explain(model, lh.normalizePixels(pixels), {
      method,
      baseline: lh.normalizePixels(new Uint8Array(784)),
      samples,
    });
  }

  /** The model on the workers, for explaining and scoring (set up once per model). */
  private async explainable(): Promise<lh.Explainable> {
    this.explainer ??= await lh.parallelExplainable(this.config, this.rule, {
      workers: this.workers,
      pool: this.pool,
      backend: this.workerBackend,
    });
    return this.explainer;
  }

  private async resetExplainer(): Promise<void> {
    await this.explainer?.close();
    this.explainer = null;
  }

  versions(): Promise<lh.VersionInfo[]> {
    return this.store.list(NAME);
  }

  async rollback(version: number): Promise<void> {
    const v = await this.store.rollback(NAME, version);
    const ck = await this.store.load(NAME);
    this.rule.dispose();
    this.rule = lh.restoreRule(ck, this.backend);
    await this.resetExplainer();
    this.status.version = v.version;
    this.status.source = `your model (version ${v.version}, a copy of ${version})`;
  }

  /** Deletes every sample and every saved version; the base model comes back. */
  async forget(base: URL): Promise<void> {
    await this.samples.clear();
    await this.store.delete(NAME).catch(() => undefined);
    this.rule.dispose();
    await this.resetExplainer();
    await this.start(base);
  }

  exportOnnx(): Promise<Uint8Array> {
    return lh.exportOnnx(this.rule);
  }

  /** Replaces the network with an imported ONNX classifier of 28×28 digits (tpSGD then personalises its last layer). */
  async importOnnx(bytes: Uint8Array): Promise<void> {
    const { rule, config } = await lh.ruleFromOnnx(bytes, this.backend, this.config);
    if (config.inputShape.join() !== '1,28,28' || config.classes !== 10) {
      rule.dispose();
      const takes = config.inputShape.join('×');
      throw new ImportRefused(
        `is not a digit reader: it takes ${takes} inputs and tells ${config.classes} classes apart, ` +
          'where this app needs 28×28 drawings and the 10 digits',
      );
    }
    this.rule.dispose();
    this.rule = rule;
    this.config = config;
    this.costs = lh.measureCosts(config, this.backend);
    this.status.plan = lh.formatPlan(lh.makePlan(config, this.costs, this.workers));
    await Promise.all(
      Array.from({ length: this.workers }, (_, i) =>
        this.pool.call(i, 'import', (s) => s.init({ rule: config, backend: this.workerBackend, label: `worker ${i}` })),
      ),
    );
    await this.resetExplainer();
    const v = await this.store.save(NAME, await lh.captureCheckpoint(rule, config, { meta: { imported: true } }), {
      keep: 5,
    });
    this.status.version = v.version;
    this.status.source = `imported ONNX model (version ${v.version})`;
  }
}
