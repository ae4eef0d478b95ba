// @module-tag invariant
/** Stage hosts wired in one thread over MessageChannels: the pipeline schedules leave no tensor behind. */
import { describe, expect, it } from 'vitest';
import { liveTensors, type RuleConfig } from '../../../src/index.js';
import { StageHost } from '../../../src/parallel/stage-host.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';

const mnist = await loadMnist();
const data = subset(mnist.train, 0, 256);
const base = { inputShape: [1, 28, 28], classes: 10, seed: 1, optimizer: { type: 'adam' as const, lr: 1e-3 } };

async function pipeline(config: RuleConfig) {
  const hosts = [new StageHost(), new StageHost()];
  await Promise.all(hosts.map((h, i) => h.init({ rule: config, label: `stage ${i}` })));
  hosts[0].setData(data, { batchSize: 32, seed: 2 });
  const link = new MessageChannel();
  hosts[0].connect({ prev: null, next: link.port1 });
  hosts[1].connect({ prev: link.port2, next: null });
  const run = (steps: number) => {
    const lrs = new Array<number>(steps).fill(1e-3);
    const reqs = [
      { first: 0, end: 1, lrs, microBatches: 4 },
      { first: 1, end: 3, lrs, microBatches: 4 },
    ];
    return Promise.all(hosts.map((h, i) => h.trainPipeline(reqs[i])));
  };
  return {
    hosts,
    run,
    close: () => {
      link.port1.close();
      link.port2.close();
    },
  };
}

describe('stage host', () => {
  it.each(['backprop', 'tpsgd'] as const)(
    '%s pipeline steps keep the number of live tensors constant',
    async (rule) => {
      const p = await pipeline({ ...base, rule, model: 'mlp' });
      await p.run(1);
      const after1 = liveTensors();
      const losses = await p.run(4);
      expect(liveTensors()).toBe(after1);
      // backprop: the last stage reports the batch loss; tpSGD: every stage its local losses
      expect(losses[1].every((l) => Number.isFinite(l) && l > 0)).toBe(true);
      expect(p.hosts[0].stats().bytesSent).toBeGreaterThan(0);
      p.close();
    },
  );

  it('NoProp group steps and pipelined inference keep the number of live tensors constant', async () => {
    const h = new StageHost();
    await h.init({ rule: { ...base, rule: 'noprop-dt', model: 'mlp', noprop: { T: 2 } }, label: 'stage 0' });
    h.setData(data, { batchSize: 32, seed: 2 });
    await h.trainGroups(['block2', 'head'], [1e-3]);
    const after1 = liveTensors();
    expect(await h.trainGroups(['block2', 'head'], [1e-3, 1e-3, 1e-3])).toHaveLength(3);
    expect(liveTensors()).toBe(after1);

    const p = await pipeline({ ...base, rule: 'backprop', model: 'mlp' });
    const [inbound, outbound] = [new MessageChannel(), new MessageChannel()];
    const link = new MessageChannel();
    p.hosts[0].connect({ prev: inbound.port2, next: link.port1 });
    p.hosts[1].connect({ prev: link.port2, next: outbound.port1 });
    const before = liveTensors();
    const got = new Promise<{ body: { shape: number[] } }>((r) => {
      outbound.port2.onmessage = (e) => r(e.data);
    });
    const runs = [p.hosts[0].predict(0, 1, 1), p.hosts[1].predict(1, 3, 1)]; // segments [0, 1) and [1, 3)
    inbound.port1.postMessage({
      kind: 'act',
      body: { shape: [2, 1, 28, 28], dtype: 'float32', data: new Float32Array(2 * 784) },
      bytes: 0,
    });
    expect((await got).body.shape).toEqual([2, 10]);
    await Promise.all(runs);
    expect(liveTensors()).toBe(before);
    for (const c of [inbound, outbound, link]) {
      c.port1.close();
      c.port2.close();
    }
    p.close();
  });
});
