/**
 * The frozen stage's prefetch (README: "trainOnFrozen … the worker computing the next batch's features while this
 * thread trains on the current one"; TrainOptions.features: "the next batch's are asked for while this one trains").
 * Checked by order and counts, never by time: batch k+1's features are asked for before batch k is trained on, one
 * batch ahead and no more; the results are paired with their own batches (the same weights as without prefetching,
 * also when they come back out of order); an error in a prefetched batch surfaces on that batch, after the batches
 * before it have trained, and never as an unhandled rejection. Then the same over a real stage worker (onnxruntime-web
 * in worker_threads), watching the comlink messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from 'comlink';
import {
  createBackend,
  createRule,
  exportOnnx,
  FrozenStage,
  train,
  trainOnFrozen,
  type LearningRule,
  type RuleConfig,
} from '../../../src/index.js';
import { nodeSpawner } from '../../../src/parallel/spawn-node.js';
import type { Spawner } from '../../../src/parallel/spawn.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { BatchIterator, type Batch } from '../../../src/data/batches.js';
import type { EpochReport, Features, Progress } from '../../../src/learn/trainer.js';
import { TpSgd } from '../../../src/learn/tpsgd.js';
import { expectSameBits, weights } from './silent-spawner.js';

const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 128);
const testSet = subset(mnist.test, 0, 64);
const BATCHES = 4; // 128 / 32
const opts = { epochs: 1, batchSize: 32, seed: 9, lr: 2e-3 };
const model: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 4,
  optimizer: { type: 'adam', lr: 2e-3 },
};
const backend = await createBackend('wasm');

/** A rule whose every trainStep is logged as `step k`. */
function loggedRule(log: string[]): LearningRule {
  const rule = createRule(model, backend);
  const step = rule.trainStep.bind(rule);
  let k = 0;
  rule.trainStep = (x, y) => {
    log.push(`step ${k++}`);
    return step(x, y);
  };
  return rule;
}

/** The features of a batch are its own pixels, handed back on a later turn of the event loop. */
const later = <T>(v: T) => new Promise<T>((r) => setImmediate(() => r(v)));

describe('train with features: prefetch order', { tags: ['invariant'] }, () => {
  it('asks for batch k+1 before training on batch k, one batch ahead and no more; each batch asked once', async () => {
    const log: string[] = [];
    let asked = 0,
      answered = 0,
      mostOutstanding = 0;
    const features: Features = async (b) => {
      log.push(asked < BATCHES ? `ask ${asked}` : 'ask test');
      asked++;
      mostOutstanding = Math.max(mostOutstanding, asked - answered);
      const f = await later({ x: b.x, shape: b.shape });
      answered++;
      return f;
    };
    const rule = loggedRule(log);
    await train(rule, trainSet, testSet, { ...opts, features });
    rule.dispose();
    expect(log).toEqual([
      'ask 0',
      'ask 1',
      'step 0',
      'ask 2',
      'step 1',
      'ask 3',
      'step 2',
      'step 3',
      'ask test', // test accuracy goes through the features too: 64 images, one batch of 256
    ]);
    expect(mostOutstanding).toBe(2);
  });

  it(
    'features that come back out of order are still paired with their own batches: ' +
      'the same weights, loss and accuracy as training on the pixels without features',
    async () => {
      const plain = createRule(model, backend);
      const ref = await train(plain, trainSet, testSet, opts);

      const order: number[] = [];
      const rule = createRule(model, backend);
      const got = await train(rule, trainSet, testSet, { ...opts, features: outOfOrder(order) });
      expect(order).toEqual([1, 0, 3, 2]);
      expectSameBits(weights(rule), weights(plain));
      expect(got.epochs[0].trainLoss).toBe(ref.epochs[0].trainLoss);
      expect(got.epochs[0].testAccuracy).toBe(ref.epochs[0].testAccuracy);
      rule.dispose();
      plain.dispose();
    },
  );
});

/**
 * Features answered in pairs, the later batch first: batch 2j is held until batch 2j+1 is asked for, then 2j+1 is
 * answered and 2j after it. Without prefetching, batch 2j would wait for an ask that never comes.
 */
function outOfOrder(order: number[]): Features {
  let asked = 0;
  let held: (() => void) | null = null;
  return (b: Batch) => {
    const k = asked++;
    const f = { x: b.x.slice(), shape: b.shape };
    if (k >= BATCHES) return later(f); // the test pass
    return new Promise((resolve) => {
      const answer = () => {
        order.push(k);
        resolve(f);
      };
      if (k % 2 === 0) held = answer;
      else
        setImmediate(() => {
          answer();
          held?.();
          held = null;
        });
    });
  };
}

describe('train with features: errors', { tags: ['behaviour'] }, () => {
  it(
    'a failure in a prefetched batch surfaces on that batch, after the batches before it have trained, ' +
      'and is never an unhandled rejection',
    async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      try {
        const log: string[] = [];
        const progress: number[] = [];
        const boom = new Error('features of batch 2 failed');
        let asked = 0;
        const features: Features = (b) => {
          const k = asked++;
          log.push(`ask ${k}`);
          // batch 2's failure is known at once, while batch 1 still waits for its features on a later turn
          return k === 2 ? Promise.reject(boom) : later({ x: b.x, shape: b.shape });
        };
        const rule = loggedRule(log);
        const err = await train(rule, trainSet, testSet, {
          ...opts,
          features,
          onProgress: (p: Progress) => progress.push(p.batch),
        }).catch((e: unknown) => e);
        rule.dispose();
        expect(err).toBe(boom);
        // batch 3's features were asked for before batch 2's failure was seen (that is the prefetch); batch 2 and 3
        // never trained
        expect(log).toEqual(['ask 0', 'ask 1', 'step 0', 'ask 2', 'step 1', 'ask 3']);
        expect(progress).toEqual([1, 2]);
        await later(null); // a rejection nobody handled is reported after the turn it happened in
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    },
  );
});

/** The comlink messages between the coordinator and a frozen stage's worker, in the order they pass. */
interface Wire {
  log: string[];
  /** Makes the n-th runFrozen request (0-based) carry a wrong shape, so that the worker's onnxruntime throws. */
  spoil(n: number): void;
  /** runFrozen requests so far. */
  requests(): number;
  /** Empties the log and numbers the requests from 0 again. */
  reset(): void;
}

function watchedSpawner(): { spawn: Spawner; wire: Wire } {
  const inner = nodeSpawner(new URL('../../../dist/stage.worker.js', import.meta.url));
  const log: string[] = [];
  const requests = new Map<string, number>();
  let n = 0,
    base = 0,
    spoilAt = -1;
  const spawn: Spawner = () => {
    const h = inner();
    const ep = h.endpoint;
    type Listener = Parameters<Endpoint['addEventListener']>[1];
    const wrapped = new Map<Listener, Listener>();
    const endpoint: Endpoint = {
      postMessage: (m: unknown, transfer?: Transferable[]) => {
        const msg = m as { id?: string; type?: string; path?: string[]; argumentList?: { value: unknown }[] };
        if (msg.type === 'APPLY' && msg.path?.at(-1) === 'runFrozen' && msg.id) {
          const k = n++;
          requests.set(msg.id, k - base);
          log.push(`request ${k - base}`);
          if (k === spoilAt && msg.argumentList)
            msg.argumentList[1] = { ...msg.argumentList[1], value: [32, 1, 28, 27] };
        }
        ep.postMessage(m, transfer);
      },
      addEventListener: (type: string, l: Listener) => {
        const w = ((ev: MessageEvent) => {
          const id = (ev.data as { id?: string } | null)?.id;
          if (id && requests.has(id)) log.push(`reply ${requests.get(id)}`);
          if (typeof l === 'function') l(ev);
          else l.handleEvent(ev);
        }) as Listener;
        wrapped.set(l, w);
        ep.addEventListener(type, w);
      },
      removeEventListener: (type: string, l: Listener) => {
        const w = wrapped.get(l);
        if (w) ep.removeEventListener(type, w);
        wrapped.delete(l);
      },
    };
    return { ...h, endpoint };
  };
  return {
    spawn,
    wire: {
      log,
      spoil: (k) => {
        spoilAt = k;
      },
      requests: () => n,
      reset: () => {
        log.length = 0;
        base = n;
      },
    },
  };
}

describe('trainOnFrozen over a stage worker', () => {
  const head: RuleConfig = {
    rule: 'tpsgd',
    model: 'mlp',
    layers: [{ type: 'dense', units: 10 }],
    inputShape: [512],
    classes: 10,
    seed: 2,
    optimizer: { type: 'adam', lr: 1e-2 },
  };
  let stage: FrozenStage, wire: Wire;
  beforeAll(async () => {
    const shipped = createRule(model, backend); // untrained: the first layers are a feature extractor all the same
    const bytes = await exportOnnx(shipped, { upTo: 5 });
    shipped.dispose();
    const w = watchedSpawner();
    wire = w.wire;
    stage = await FrozenStage.open(bytes, [1, 28, 28], { spawn: w.spawn });
  }, 60_000);
  afterAll(async () => {
    await stage?.close();
  });

  it('requests batch k+1 from the worker before batch k trains, two in flight at most; the head learns what it ' +
    'learns from the same features fetched one by one', { tags: ['invariant'], timeout: 60_000 }, async () => {
    // the features of every batch, fetched one at a time (no prefetch) in the order train visits them
    const sequential: { x: Float32Array; shape: number[] }[] = [];
    const visit = new BatchIterator(trainSet, { batchSize: opts.batchSize, seed: opts.seed });
    for (const b of [
      ...visit.restOfEpoch(),
      ...new BatchIterator(testSet, { batchSize: 256, shuffle: false }).restOfEpoch(),
    ]) {
      const f = await stage.features(b.x, b.y.length);
      sequential.push({ x: f.data, shape: [b.y.length, 512] });
    }
    let i = 0;
    const reference = createRule(head, backend);
    const ref = await train(reference, trainSet, testSet, { ...opts, features: async () => sequential[i++] });
    expect(i).toBe(BATCHES + 1);

    // the head is made inside trainOnFrozen: its steps are logged through the class for the length of the run
    const step = TpSgd.prototype.trainStep;
    let k = 0;
    TpSgd.prototype.trainStep = function (this: TpSgd, x, y) {
      wire.log.push(`step ${k++}`);
      return step.call(this, x, y);
    };
    wire.reset();
    let rule: LearningRule, epochs: EpochReport[];
    try {
      ({ rule, epochs } = await trainOnFrozen(stage, head, trainSet, testSet, opts));
    } finally {
      TpSgd.prototype.trainStep = step;
    }
    expect(k).toBe(BATCHES);
    const log = wire.log;
    const at = (s: string) => {
      expect(log, s).toContain(s);
      return log.indexOf(s);
    };
    for (let j = 0; j + 1 < BATCHES; j++) expect(at(`request ${j + 1}`), `batch ${j}`).toBeLessThan(at(`step ${j}`));
    // one request per training batch and one for the test pass: nothing asked twice
    expect(log.filter((s) => s.startsWith('request'))).toHaveLength(BATCHES + 1);
    let outstanding = 0,
      most = 0;
    for (const s of log) {
      if (s.startsWith('request')) most = Math.max(most, ++outstanding);
      if (s.startsWith('reply')) outstanding--;
    }
    expect(most).toBe(2);
    expectSameBits(weights(rule), weights(reference));
    expect(epochs[0].trainLoss).toBe(ref.epochs[0].trainLoss);
    expect(epochs[0].testAccuracy).toBe(ref.epochs[0].testAccuracy);
    rule.dispose();
    reference.dispose();
  });

  it('a batch the worker fails on is a WORKER_FAILED error for that batch; the batches before it have trained', {
    tags: ['behaviour'],
    timeout: 60_000,
  }, async () => {
    const progress: number[] = [];
    wire.spoil(wire.requests() + 2); // batch 2 of the next run

    const err = await trainOnFrozen(stage, head, trainSet, testSet, {
      ...opts,
      onProgress: (p) => progress.push(p.batch),
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('WORKER_FAILED');
    expect((err as Error).message).toMatch(/^stage 0 \(frozen model\) threw: /);
    expect(progress).toEqual([1, 2]);
    // the worker lives on: the next batch's features come back, and the caller's pixels are left as they were (a
    // copy is transferred to the worker, not the caller's buffer)
    const b = new BatchIterator(testSet, { batchSize: 8, shuffle: false }).next();
    const pixels = Float32Array.from(b.x);
    expect((await stage.features(b.x, 8)).shape).toEqual([8, 512]);
    expect(b.x).toEqual(pixels);
  });
});
