// @module-tag outside
// A server that sends arrays of the wrong shapes, through real Flower 1.42: a run whose initial arrays are another
// model's. The layerhive node refuses them with a typed 'shape' error before touching its model (its weights stay
// bit-identical), answers each message with Flower's error so that the ServerApp's rounds end at once, and then
// trains the next run, whose arrays fit.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFlower, readArrays, startFlower } from '../../../federated/local-flower.mjs';
import { createBackend } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { MNIST_NORMALIZATION } from '../../../src/data/batches.js';
import { createRule } from '../../../src/learn/create.js';
import type { LearningRule } from '../../../src/learn/rule.js';
import { FederatedError } from '../../../src/federated/errors.js';
import type { FlowerArray } from '../../../src/federated/records.js';
import { ruleArrays, ruleClientApp } from '../../../src/federated/rule-client.js';
import { SuperNode } from '../../../src/federated/supernode.js';
import { faultConfig, replyCounts, startRun, type Summary, waitForSummary, workDir } from './faults-common.js';

interface Seen {
  run: bigint;
  type: string;
  error?: Error;
}

let flower: LocalFlower | undefined;
const abort = new AbortController();
const seen: Seen[] = [];
const faults: Error[] = [];
let rule: LearningRule;
let before: Map<string, FlowerArray>;
let afterWrong: Map<string, FlowerArray>;
let wrong: { summary: Summary; round1: [string, Uint8Array][]; init: Map<string, FlowerArray>; log: string };
let right: Summary;
let running: Promise<void>;

// each array's bytes by SHA-256 (a failure then prints names and digests, not megabytes of hex)
const digest = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const bytesOf = (m: Map<string, FlowerArray>) => [...m].map(([n, a]) => [n, digest(a.data)]);

describe('arrays of the wrong shapes from a real Flower 1.42 ServerApp', () => {
  beforeAll(async () => {
    flower = await startFlower();
    const mnist = await loadMnist();
    const backend = await createBackend('wasm');
    const work = workDir();
    const app = ruleClientApp({
      config: faultConfig(32),
      backend,
      trainSet: subset(mnist.train, 0, 300),
      testSet: subset(mnist.test, 0, 200),
      normalization: MNIST_NORMALIZATION,
    });
    rule = app.rule;
    const node = new SuperNode({
      server: flower.server,
      pollMs: 300,
      heartbeatInterval: 10,
      onRound: (r) => seen.push({ run: r.message.runId, type: r.message.messageType, error: r.error }),
      onFault: (e) => faults.push(e),
    });
    await node.connect(abort.signal);
    running = node.run(app.handler, abort.signal);
    before = await ruleArrays(rule);

    // a server started from another model: 48 hidden units where this device has 32
    const other = createRule(faultConfig(48), backend);
    const init = await ruleArrays(other);
    other.dispose();
    const run = startRun(flower, work, 'wrong', init, { 'num-server-rounds': 1, 'min-nodes': 1 });
    wrong = {
      summary: await waitForSummary(flower, run, 90),
      round1: readArrays(join(run.out, 'round-1')),
      init,
      log: flower.runLog(run.runId),
    };
    afterWrong = await ruleArrays(rule);

    // the next run, from this model: the same node trains it
    right = await waitForSummary(
      flower,
      startRun(flower, work, 'right', before, { 'num-server-rounds': 1, 'min-nodes': 1 }),
      90,
    );
  }, 200_000);

  afterAll(async () => {
    abort.abort();
    await running?.catch(() => {});
    flower?.stop();
  });

  it("refuses the wrong run's train and evaluate messages with a typed 'shape' error naming the array", () => {
    const first = seen[0].run;
    const refused = seen.filter((s) => s.run === first);
    expect(refused.map((s) => s.type).sort()).toEqual(['evaluate', 'train']);
    for (const s of refused) {
      expect(s.error).toBeInstanceOf(FederatedError);
      expect((s.error as FederatedError).fault).toBe('shape');
      expect(s.error?.message).toMatch(/is float32 \[[\d,]*48[\d,]*\], the model needs float32 \[[\d,]*32[\d,]*\]/);
    }
  });

  it('leaves the local model bit-identical', () => {
    expect(bytesOf(afterWrong)).toEqual(bytesOf(before));
  });

  it("sends Flower's error: the round ends at once, with no results and the global arrays unchanged", () => {
    // the strategy waits up to its timeout (3600 s) for a reply; its summary after seconds means the errors arrived
    expect(replyCounts(wrong.log, 'train')).toEqual([[0, 1]]);
    expect(replyCounts(wrong.log, 'evaluate')).toEqual([[0, 1]]);
    expect(wrong.log).toMatch(/Received error in reply from node \d+: shape: array '[^']+' is float32/);
    expect(wrong.summary.rounds.map((r) => r.round)).toEqual([0, 1]);
    expect(wrong.summary.train).toEqual({});
    expect(wrong.summary.evaluate).toEqual({});
    expect(wrong.round1.map(([n, d]) => [n, digest(d)])).toEqual(bytesOf(wrong.init));
  });

  it('keeps running: the next run, whose arrays fit, is trained and evaluated', () => {
    const last = seen.at(-1)!.run;
    const ok = seen.filter((s) => s.run === last);
    expect(ok.map((s) => [s.type, s.error?.message])).toEqual([
      ['train', undefined],
      ['evaluate', undefined],
    ]);
    expect(Object.keys(right.train)).toEqual(['1']);
    expect(right.evaluate['1'].accuracy).toBeGreaterThan(0.3);
    expect(faults).toEqual([]);
  });
});
