import * as lh from '../../src/index.js';
import type { Attribution, LearningRule, MethodName, RuleConfig } from '../../src/index.js';
import { heldOut, SampleStore, type Sample } from './sample-store.js';
import {
  clearModes,
  familyOf,
  lastFigures,
  learnConfig,
  modeInfo,
  modeOf,
  storedMode,
  storeFigures,
  storeMode,
  type LearnFigures,
  type LearnMode,
  type ModeInfo,
  type Score,
} from './learn-modes.js';

export interface LearnPoint {
  step: number;
  loss: number;
  /** On the samples kept aside, at the end of an epoch; absent when none are kept aside. */
  accuracy?: number;
  /** Share of the run done, 0…1. */
  done: number;
}
/** The intra-op threads of this page's wasm backend (predictions run on it), as its capabilities() say. */
export interface PageThreads {
  inUse: number;
  /** Why fewer threads than asked are in use; '' when as many as asked. */
  note: string;
  /** The device's cores as the browser reports them (navigator.hardwareConcurrency). */
  cores: number;
  /** Whether the page is crossOriginIsolated (what shared WebAssembly memory, so threads, needs in a browser). */
  isolated: boolean;
}
export interface Status {
  source: string;
  version: number | null;
  backends: string[];
  /** Each worker's intra-op threads, beside `backends` (as started, or as the last Learn ran them). */
  workerThreads: number[];
  threads: PageThreads;
  plan: string;
  samples: number;
  /** How many of the samples are kept aside to test on (never learned from): see `heldOut`. */
  heldOut: number;
  /** How Learn personalises, and so which network predicts and explains (see learn-modes.ts). */
  mode: LearnMode;
  /** Whether the gradient methods (IG, SmoothGrad, saliency, Grad-CAM) can explain this network. */
  gradients: boolean;
  /** What the last Learn measured on this device (any mode): plan, bytes between workers, time, accuracy. */
  lastLearn: LearnFigures | null;
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
  NAME = 'my-digits',
  /** Set when samples were deleted: the next Learn starts from the model they were never taught to. */
  FROM_ORIGIN_KEY = 'layerhive-app:from-origin',
  /** `<the deletion's mark>:<networks>`: the networks (cnn, noprop) that have learned again from their origin since. */
  ORIGIN_DONE_KEY = 'layerhive-app:from-origin-done',
  /** Where each network's shipped model lies, beside the app. */
  BASE_DIR: Record<ModeInfo['family'], string> = { cnn: 'base/', noprop: 'base-noprop/' };

/**
 * Everything the app does with the model, off the main thread where it is heavy: the network, personalised in the
 * Learn mode chosen (learn-modes.ts) across two stage workers — tpSGD on the last layer or on every layer of a CNN
 * trained by backprop (shipped as base/), as a pipeline, or NoProp-DT on a model shipped as base-noprop/, its blocks
 * side by side — explained by the attribution methods on the same workers, and kept in IndexedDB as versions (each
 * records its mode).
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
  /** How Learn personalises now; the network in use is the one this mode trains. */
  mode!: LearnMode;
  private replay!: lh.ImageDataset;
  private costs!: lh.GroupCost[];
  /** Each mode's measured group costs (placement), measured once per page (an import clears them). */
  private costsOf = new Map<LearnMode, lh.GroupCost[]>();
  private base!: URL;
  constructor(
    workerUrl: URL,
    private workerBackend = 'wasm',
    private workers = 2,
  ) {
    // the workers start now, with the page: learning and explaining later fetch nothing
    this.pool = new lh.WorkerPool(lh.webSpawner(workerUrl), workers);
  }

  /**
   * Loads the newest personalised version from IndexedDB of the network the chosen Learn mode trains, or that
   * network's base model shipped with the app.
   */
  async start(base: URL): Promise<Status> {
    this.base = base;
    // one backend for the page's life (Forget me starts again on it): each holds helper threads ('auto')
    this.backend ??= await lh.createBackend('wasm');
    const [images, labels] = await Promise.all(
      ['replay-images.bin', 'replay-labels.bin'].map(
        async (f) => new Uint8Array(await (await fetch(new URL(f, base))).arrayBuffer()),
      ),
    );
    this.replay = { images, labels, count: labels.length, shape: [1, 28, 28], classes: 10 };
    this.costsOf.clear(); // after Forget me, an imported network's costs no longer apply
    this.status = {
      source: '',
      version: null,
      backends: [],
      workerThreads: [],
      threads: this.pageThreads(),
      plan: '',
      samples: 0,
      heldOut: 0,
      mode: storedMode(),
      gradients: true,
      lastLearn: lastFigures(),
    };
    // the newest version of the network the chosen mode trains (the newest of all, unless modes were switched)
    await this.use(this.status.mode);
    const inits = await Promise.all(
      Array.from({ length: this.workers }, (_, i) =>
        this.pool.call(i, 'start', async (s) => {
          const { backend } = await s.init({ rule: this.config, backend: this.workerBackend, label: `worker ${i}` });
          return { backend, threads: (await s.stats()).threads };
        }),
      ),
    );
    this.status.backends = inits.map((r) => r.backend);
    this.status.workerThreads = inits.map((r) => r.threads);
    await this.countSamples();
    return this.status;
  }

  /**
   * Learn personalises in `mode` from now on (remembered on this device). A mode of the other network switches the
   * model in use: to the newest version learned in a mode of that network, or its shipped base model.
   */
  async setMode(mode: LearnMode): Promise<void> {
    storeMode(mode);
    if (modeInfo(mode).family === familyOf(this.config)) {
      this.config = learnConfig(mode, this.config);
      await this.setPlan(mode);
    } else {
      await this.use(mode);
      await this.resetExplainer();
    }
  }

  /**
   * Makes `mode`'s network the one in use: version `version`, else the newest version saved from a mode of that
   * network, else the network shipped with the app; `this.config` is then the config that mode learns with.
   */
  private async use(mode: LearnMode, version?: number): Promise<void> {
    const family = modeInfo(mode).family;
    const versions = await this.store.list(NAME);
    const newest = versions.at(-1)?.version;
    // versions from before modes recorded theirs are all of the CNN
    const saved = version ?? versions.filter((v) => (v.meta.family ?? 'cnn') === family).at(-1)?.version;
    let rule: LearningRule, config: RuleConfig, source: string;
    if (saved !== undefined) {
      // the newest version falls back to an older one if it does not check out (as before modes)
      const ck = await this.store.load(NAME, saved === newest ? { fallback: true } : { version: saved });
      rule = lh.restoreRule(ck, this.backend);
      config = learnConfig(mode, ck.config);
      source = ck.meta.imported
        ? `imported ONNX model (version ${ck.info.version})`
        : `your model (version ${ck.info.version})`;
      this.status.version = ck.info.version;
    } else {
      const ck = await lh.fetchCheckpoint(new URL(BASE_DIR[family], this.base).href);
      config = learnConfig(mode, ck.config);
      rule = this.shippedRule(ck, config);
      const accuracy = Number((ck.meta.run as { testAccuracy?: number })?.testAccuracy ?? 0);
      const what = family === 'noprop' ? 'NoProp-DT, 10 blocks' : 'backprop CNN';
      source = `base model (${what}, ${(100 * accuracy).toFixed(1)}% on MNIST)`;
      this.status.version = null;
    }
    this.rule?.dispose();
    this.rule = rule;
    this.config = config;
    this.status.source = source;
    await this.setPlan(mode);
  }

  /**
   * The mode in use, and where its layers or blocks would run: the plan Learn uses, from the same costs (measured
   * once per mode, here, not per Learn).
   */
  private async setPlan(mode: LearnMode): Promise<void> {
    this.mode = mode;
    const config = this.config;
    let costs = this.costsOf.get(mode);
    if (!costs) {
      costs = await this.stageCosts(config);
      this.costsOf.set(mode, costs);
    }
    this.costs = costs;
    this.status.mode = mode;
    this.status.gradients = familyOf(config) === 'cnn';
    this.status.plan = lh.formatPlan(lh.makePlan(config, costs, this.workers));
  }

  /**
   * Group costs as the stage workers run them: one thread each (`stageThreads: 1` in Learn — a Learn mode is a way
   * of spreading the model over the workers, which already hold the cores), on a fresh wasm backend, since this
   * page's own runs more threads and its times would not match theirs.
   */
  private stageCosts(config: RuleConfig): Promise<lh.GroupCost[]> {
    return lh.placementCosts(config, 'wasm', 1);
  }

  /** What this page's backend says of its threads now (a helper that failed sends it back to one thread). */
  private pageThreads(): PageThreads {
    const caps = this.backend.capabilities();
    return {
      inUse: Number(caps.threadsInUse ?? 1),
      note: String(caps.threadsNote ?? ''),
      cores: navigator.hardwareConcurrency || 1,
      isolated: globalThis.crossOriginIsolated === true,
    };
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

  /** Keeps several samples at once (all or none); gives their ids. */
  async addSamples(samples: readonly { pixels: Uint8Array; label: number }[]): Promise<number[]> {
    const ids = await this.samples.addMany(samples);
    await this.countSamples();
    return ids;
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
  ): Promise<{ before: Accuracy; after: Accuracy; version: number; figures: LearnFigures }> {
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
    // after samples were deleted: from the model they were never taught to, for this network (each has its own)
    const family = familyOf(this.config);
    const fromOrigin = this.mustStartFromOrigin(family);
    const initial = fromOrigin ? await this.originGroups() : await lh.saveGroups(this.rule);
    let step = 0;
    const epochs = o.epochs ?? 6;
    const t0 = performance.now();
    const { rule, report } = await lh.trainParallel(this.config, train, test, {
      workers: this.workers,
      pool: this.pool,
      backend: this.workerBackend,
      stageThreads: 1,
      initial,
      costs: this.costs,
      epochs,
      batchSize: 16,
      seed: Date.now() % 100000,
      lr: this.config.optimizer.lr,
      // each sync pulls every stage's state into this page: NoProp-DT's ten blocks are ~10× the CNN's head, so its
      // Learn syncs less often (a worker lost meanwhile replays more steps)
      syncEvery: family === 'noprop' ? 50 : 10,
      onProgress: (p) =>
        onPoint({ step: ++step, loss: p.loss, done: (p.epoch * p.batches + p.batch) / (epochs * p.batches) }),
      // the curve's accuracy only on samples kept aside: on those it learns from it would say little
      onEpoch: (e) =>
        onPoint({ step, loss: NaN, accuracy: kept.length ? e.testAccuracy : undefined, done: (e.epoch + 1) / epochs }),
    });
    const seconds = (performance.now() - t0) / 1000;
    // the learned state moves into this thread's copy (on its backend; the coordinator's copy may be another)
    for (const [g, st] of Object.entries(await lh.saveGroups(rule))) this.rule.loadGroup(g, st);
    rule.dispose();
    this.status.backends = report.workers.map((w) => w.backend);
    this.status.workerThreads = report.workers.map((w) => w.threads);
    this.status.threads = this.pageThreads();
    await this.resetExplainer();
    const after = await this.accuracy(kept);
    const ratio = (s: Score) => s.correct / s.total;
    const meta = {
      samples: mine.length,
      heldOut: kept.length,
      // how it was learned: rollback (and the next start) picks the mode and network back up from these
      mode: this.mode,
      family,
      rule: this.config.rule,
      ...(fromOrigin ? { fromOrigin: true } : {}),
      replayAccuracy: ratio(after.replay),
      // the versions table's accuracy: on samples this version never learned from, or none
      ...(kept.length ? { accuracy: ratio(after.mine) } : {}),
    };
    const v = await this.store.save(NAME, await lh.captureCheckpoint(this.rule, this.config, { meta }), { keep: 5 });
    if (fromOrigin) this.reachedOrigin(family);
    this.status.version = v.version;
    this.status.source = `your model (version ${v.version})`;
    const figures: LearnFigures = {
      mode: this.mode,
      seconds,
      mine: after.mine,
      replay: after.replay,
      plan: lh.formatPlan(report.plan),
      stageBytes: report.stageBytes,
      stageBytesPerSample: report.stageBytesPerSample,
      syncBytes: report.syncBytes,
      samples: train.count * epochs,
      at: Date.now(),
    };
    storeFigures(figures);
    this.status.lastLearn = figures;
    return { before, after, version: v.version, figures };
  }

  /** Whether samples were deleted since `family`'s network last learned from its origin (see forgetSamples). */
  private mustStartFromOrigin(family: ModeInfo['family']): boolean {
    const mark = localStorage.getItem(FROM_ORIGIN_KEY);
    if (mark === null) return false;
    const [at, done = ''] = (localStorage.getItem(ORIGIN_DONE_KEY) ?? '').split(':');
    return !(at === mark && done.split(',').includes(family));
  }

  /** `family`'s network has learned again from its origin: once both have, the deletion is fully honoured. */
  private reachedOrigin(family: ModeInfo['family']): void {
    const mark = localStorage.getItem(FROM_ORIGIN_KEY);
    if (mark === null) return;
    const [at, done = ''] = (localStorage.getItem(ORIGIN_DONE_KEY) ?? '').split(':');
    const families = new Set([...(at === mark ? done.split(',').filter(Boolean) : []), family]);
    if (families.has('cnn') && families.has('noprop')) {
      localStorage.removeItem(FROM_ORIGIN_KEY);
      localStorage.removeItem(ORIGIN_DONE_KEY);
    } else localStorage.setItem(ORIGIN_DONE_KEY, `${mark}:${[...families].join(',')}`);
  }

  /**
   * Forget these samples but keep the model: the network in use unlearns them with SalUn (src/learn/unlearn: the
   * weights most salient to their loss relearn them with random labels, beside your other samples and the shipped
   * digits), a new version is saved, and the samples are deleted. The new version carries no more of them than a
   * model never taught them (approximately: retraining without them is the exact way, which Delete + Learn takes);
   * older versions still do until they are deleted. Returns the accuracy on them before and after.
   */
  async unlearnSamples(ids: readonly number[]): Promise<{ before: Score; after: Score; version: number }> {
    const gone = new Set(ids);
    const all = await this.samples.all();
    const aside = heldOut(all);
    const forgotten = all.filter((s) => gone.has(s.id!));
    if (!forgotten.length) throw new Error('select the samples to forget first');
    const kept = all.filter((s, i) => !gone.has(s.id!) && !aside.has(i));
    const before = (await this.accuracy(forgotten)).mine;
    await this.resetExplainer();
    const own = kept.length ? this.dataset(kept, Math.max(1, Math.round(this.replay.count / kept.length))) : null;
    const retain = own ? lh.concatDatasets(own, this.replay) : this.replay;
    const out = await lh.unlearn(this.rule, {
      config: this.config,
      forget: this.dataset(forgotten, 1),
      retain,
      method: 'salun',
      epochs: 2,
      batchSize: 16,
      // from the samples forgotten, not the clock: forgetting the same samples again gives the same version
      seed: [...gone].sort((a, b) => a - b).reduce((h, id) => (h * 31 + id) % 1_000_003, 7),
    });
    try {
      for (const [g, st] of Object.entries(await lh.saveGroups(out.rule))) this.rule.loadGroup(g, st);
    } finally {
      lh.releaseRule(out.rule);
    }
    await this.samples.delete(ids);
    await this.countSamples();
    await this.resetExplainer();
    const after = (await this.accuracy(forgotten)).mine;
    const meta = {
      samples: kept.length,
      mode: this.mode,
      family: familyOf(this.config),
      rule: this.config.rule,
      unlearned: forgotten.length,
    };
    const v = await this.store.save(NAME, await lh.captureCheckpoint(this.rule, this.config, { meta }), { keep: 5 });
    this.status.version = v.version;
    this.status.source = `your model (version ${v.version})`;
    return { before, after, version: v.version };
  }

  /**
   * Deletes these samples; true when a saved version may have learned from them (it was saved after one of them was
   * taught — any version, of either network: the other network's newest is what its mode goes back to). Then the next
   * Learn of each network starts again from the model they were never taught to (the shipped one, or the newest
   * imported one) and learns from the samples left: nothing of the deleted ones stays in the versions it saves.
   * (A sample kept aside is never learned from, but deleting it moves which samples are kept aside: it counts too.)
   */
  async forgetSamples(ids: readonly number[]): Promise<boolean> {
    const gone = new Set(ids);
    const taught = (await this.samples.all()).filter((s) => gone.has(s.id!));
    const saved = (await this.store.list(NAME)).map((v) => Date.parse(v.createdAt));
    await this.samples.delete(ids);
    const learned = taught.some((s) => saved.some((at) => s.at <= at));
    if (learned) localStorage.setItem(FROM_ORIGIN_KEY, String(Date.now()));
    await this.countSamples();
    return learned;
  }

  /**
   * The group states of the model your samples were first taught to, for the network in use: the newest imported
   * version, or the base (the NoProp-DT network's is always its base: nothing is imported into it).
   */
  private async originGroups(): Promise<Record<string, lh.GroupState>> {
    const family = familyOf(this.config);
    const imported = family === 'cnn' ? (await this.store.list(NAME)).filter((v) => v.meta.imported).at(-1) : undefined;
    const ck = imported
      ? await this.store.load(NAME, { version: imported.version })
      : await lh.fetchCheckpoint(new URL(BASE_DIR[family], this.base).href);
    const rule = this.shippedRule(ck, this.config);
    try {
      return await lh.saveGroups(rule);
    } finally {
      rule.dispose();
    }
  }

  /**
   * A shipped (or imported) model as a rule with `config` and a fresh optimizer: the CNN's weights copied into tpSGD's
   * segments (its groups are not backprop's); the NoProp-DT model restored as it is (the same rule, the same groups),
   * its optimizer started again.
   */
  private shippedRule(ck: lh.Checkpoint, config: RuleConfig): LearningRule {
    if (familyOf(config) === 'noprop') {
      const groups = Object.fromEntries(
        Object.entries(ck.groups).map(([g, st]) => [g, { ...st, optimizer: { steps: 0, slots: {} } }]),
      );
      return lh.restoreRule({ ...ck, config, groups }, this.backend);
    }
    const rule = lh.createRule(config, this.backend);
    try {
      lh.copyWeights(ck, rule);
    } catch (e) {
      rule.dispose();
      throw e;
    }
    return rule;
  }

  /**
   * An attribution of the drawing's score for class `target` (default: the class predicted), with the method's
   * `options` (samples, noise, …: the app passes them, so the library's defaults do not change its pictures); the
   * baseline is a blank pad. Model calls run on the workers (CAM methods: one pass here).
   */
  async explain(
    pixels: Uint8Array,
    method: MethodName,
    target?: number,
    options: Omit<lh.ExplainOptions, 'method' | 'target'> = {},
  ): Promise<Attribution> {
    const model = await this.explainable();
    return lh.explain(model, lh.normalizePixels(pixels), {
      baseline: lh.normalizePixels(new Uint8Array(784)),
      ...options,
      method,
      target,
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

  /** A federation's local round (federation.ts): `rule` trained over this page's workers as Learn trains, in place. */
  async trainOnWorkers(
    rule: LearningRule,
    config: RuleConfig,
    train: lh.ImageDataset,
    test: lh.ImageDataset,
    o: lh.TrainOptions,
  ): Promise<{ epochs: lh.EpochReport[] }> {
    await this.resetExplainer(); // the workers are set up for training
    const same = JSON.stringify(config) === JSON.stringify(this.config); // else the costs are another network's
    const { rule: trained, report } = await lh.trainParallel(config, train, test, {
      ...o,
      workers: this.workers,
      pool: this.pool,
      backend: this.workerBackend,
      stageThreads: 1,
      initial: await lh.saveGroups(rule),
      ...(same ? { costs: this.costs } : {}),
    });
    try {
      for (const [g, st] of Object.entries(await lh.saveGroups(trained))) rule.loadGroup(g, st);
    } finally {
      trained.dispose();
    }
    return { epochs: report.epochs };
  }

  /**
   * A federation's global model saved as a version of its own (`meta.federated` says whence), never over another:
   * only `replaces` (the same run's previous round) is deleted. It becomes the model in use unless the person chose
   * another since the last round (the version in use is not the one it replaces).
   */
  async saveFederated(
    rule: LearningRule,
    config: RuleConfig,
    meta: { federated: { round: number }; mode: LearnMode } & Record<string, unknown>,
    o: { replaces?: number },
  ): Promise<number> {
    const full = { ...meta, family: familyOf(config), rule: config.rule };
    const v = await this.store.save(NAME, await lh.captureCheckpoint(rule, config, { meta: full }));
    const take = o.replaces === undefined || this.status.version === o.replaces;
    if (o.replaces !== undefined) await this.store.delete(NAME, o.replaces).catch(() => undefined);
    if (take) {
      storeMode(meta.mode);
      await this.use(meta.mode, v.version);
      await this.resetExplainer();
      this.status.source = `the federation's model (round ${meta.federated.round}, version ${v.version})`;
    }
    return v.version;
  }

  versions(): Promise<lh.VersionInfo[]> {
    return this.store.list(NAME);
  }

  /** Back to `version` (saved again as the newest), in the mode it was learned in: Learn goes on in that mode. */
  async rollback(version: number): Promise<void> {
    const v = await this.store.rollback(NAME, version);
    const mode = modeOf((await this.store.load(NAME, { version: v.version })).config, v.meta);
    storeMode(mode);
    await this.use(mode, v.version);
    await this.resetExplainer();
    this.status.source = `your model (version ${v.version}, a copy of ${version})`;
  }

  /** Deletes every sample and every saved version; the base model comes back. */
  async forget(base: URL): Promise<void> {
    await this.samples.clear();
    localStorage.removeItem(FROM_ORIGIN_KEY);
    localStorage.removeItem(ORIGIN_DONE_KEY);
    clearModes(); // the chosen mode and its figures (accuracy on your samples) go too
    await this.store.delete(NAME).catch(() => undefined);
    await this.resetExplainer();
    await this.start(base); // which disposes the rule in use as it loads the base model
  }

  exportOnnx(): Promise<Uint8Array> {
    return lh.exportOnnx(this.rule);
  }

  /** Replaces the network with an imported ONNX classifier of 28×28 digits (tpSGD then personalises its last layer). */
  async importOnnx(bytes: Uint8Array): Promise<void> {
    // a stack of layers: tpSGD learns it in a CNN mode (from NoProp-DT, the last-layer mode)
    const mode = familyOf(this.config) === 'cnn' ? this.mode : 'last-layer';
    const template = learnConfig(mode, {
      ...this.config,
      rule: 'backprop',
      model: 'cnn',
      optimizer: { type: 'adam', lr: 5e-3 },
    });
    const { rule, config } = await lh.ruleFromOnnx(bytes, this.backend, template);
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
    storeMode(mode);
    this.costsOf.clear(); // the CNN modes now train these layers
    await this.setPlan(mode);
    await Promise.all(
      Array.from({ length: this.workers }, (_, i) =>
        this.pool.call(i, 'import', (s) => s.init({ rule: config, backend: this.workerBackend, label: `worker ${i}` })),
      ),
    );
    await this.resetExplainer();
    const meta = { imported: true, mode, family: 'cnn', rule: config.rule };
    const v = await this.store.save(NAME, await lh.captureCheckpoint(rule, config, { meta }), {
      keep: 5,
    });
    this.status.version = v.version;
    this.status.source = `imported ONNX model (version ${v.version})`;
  }
}
