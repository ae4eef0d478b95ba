// @module-tag behaviour
// FedProx on the client: a 'train' message whose config carries 'proximal-mu' keeps the local weights nearer the
// global ones than the same training with μ = 0; the rule itself is left without the extra step afterwards; a client
// that trains over workers refuses a FedProx round.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { MNIST_NORMALIZATION } from '../../../src/data/batches.js';
import type { RuleConfig } from '../../../src/learn/create.js';
import { decodeNpy } from '../../../src/federated/npy.js';
import type { ConfigValue, FlowerArray, RecordDict } from '../../../src/federated/records.js';
import { ruleArrays, ruleClientApp } from '../../../src/federated/rule-client.js';
import { shard } from '../../../src/federated/shards.js';
import type { IncomingMessage } from '../../../src/federated/supernode.js';

const config: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  layers: [{ type: 'flatten' }, { type: 'dense', units: 32 }, { type: 'tanh' }, { type: 'dense', units: 10 }],
  inputShape: [1, 28, 28],
  classes: 10,
  optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
  seed: 5,
  streams: 'named',
};

const distance = (a: Map<string, FlowerArray>, b: Map<string, FlowerArray>) => {
  let s = 0;
  for (const [k, x] of a) {
    const u = decodeNpy(x.data).data as Float32Array;
    const v = decodeNpy(b.get(k)!.data).data as Float32Array;
    for (let i = 0; i < u.length; i++) s += (u[i] - v[i]) ** 2;
  }
  return Math.sqrt(s);
};

describe('FedProx proximal term', () => {
  it('with μ > 0 the local weights end closer to the global ones than with μ = 0', async () => {
    const backend = await createBackend('wasm');
    const mnist = await loadMnist();
    const trainSet = shard(subset(mnist.train, 0, 2000), 0, 2, 0.3, 4);
    const testSet = subset(mnist.test, 0, 200);
    const apps: ReturnType<typeof ruleClientApp>[] = [];
    // a fresh client per run: the same seeded model and data order, so only μ differs
    const trainWith = async (mu?: number) => {
      const app = ruleClientApp({ config, backend, trainSet, testSet, normalization: MNIST_NORMALIZATION });
      apps.push(app);
      return app.handler(message(await ruleArrays(app.rule), mu));
    };
    const message = (global: Map<string, FlowerArray>, mu?: number): IncomingMessage => {
      const values = new Map<string, ConfigValue>([
        ['local-epochs', 2],
        ['lr', 0.05],
        ['batch-size', 32],
        ['server-round', 1],
      ]);
      if (mu !== undefined) values.set('proximal-mu', mu);
      const content: RecordDict = new Map([
        ['arrays', { kind: 'arrays', arrays: global }],
        ['config', { kind: 'config', values }],
      ]);
      return { runId: 1n, messageId: 'm', messageType: 'train', groupId: '1', content };
    };
    const arraysOf = (r: RecordDict) => {
      const a = r.get('arrays');
      if (a?.kind !== 'arrays') throw new Error('no arrays');
      return a.arrays;
    };
    const probe = ruleClientApp({ config, backend, trainSet, testSet, normalization: MNIST_NORMALIZATION });
    const global = await ruleArrays(probe.rule);
    const dist = async (mu?: number) => distance(arraysOf(await trainWith(mu)), global);
    const [none, plain, prox, strong] = [await dist(), await dist(0), await dist(1), await dist(5)];
    console.log(
      `‖w − w_global‖ after 2 local epochs: μ=0 ${plain.toFixed(3)}, μ=1 ${prox.toFixed(3)}, μ=5 ${strong.toFixed(3)}`,
    );
    expect(none).toBe(plain); // μ = 0 is FedAvg's local training exactly
    expect(plain).toBeGreaterThan(0);
    expect(prox).toBeLessThan(plain);
    expect(strong).toBeLessThan(prox);
    await expect(probe.handler(message(global, -1))).rejects.toMatchObject({ name: 'FederatedError' });
    // a client whose trainer trains a copy elsewhere (workers) cannot apply the step: it refuses, not trains FedAvg
    const elsewhere = ruleClientApp({
      config,
      backend,
      trainSet,
      testSet,
      normalization: MNIST_NORMALIZATION,
      trainer: async () => ({ epochs: [] }),
      trainerAppliesProximal: false,
    });
    apps.push(elsewhere);
    await expect(elsewhere.handler(message(global, 0.1))).rejects.toMatchObject({
      name: 'FederatedError',
      fault: 'refused',
      message: expect.stringMatching(/FedProx \(proximal-mu 0\.1\).*over workers/),
    });
    for (const a of [probe, ...apps]) a.rule.dispose();
  }, 120_000);
});
