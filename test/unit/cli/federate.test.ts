// `layerhive federate` from source: its option checks (typed errors before anything starts), `--write-initial`, and
// one round against a real Flower 1.42 SuperLink with two clients run by runFederate (the command's function).
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFlower, type LocalFlower } from '../../../federated/local-flower.mjs';
import { type FederateArgs, parseServer, parseShard, runFederate } from '../../../src/cli/federate.js';
import { assign, createBackend, mul } from '../../../src/index.js';
import { createRule, type RuleConfig } from '../../../src/learn/create.js';
import { saveGroups } from '../../../src/learn/rule.js';
import { decodeNpy } from '../../../src/federated/npy.js';
import { captureCheckpoint } from '../../../src/store/checkpoint.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';

const base: FederateArgs = {
  server: 'http://127.0.0.1:9',
  rule: 'backprop',
  model: 'mlp',
  data: 'mnist',
  shard: '0/2',
  nonIid: 0.5,
  seed: 3,
  hidden: 32,
  limit: 2000,
  testImages: 200,
  epochs: 1,
  lr: 0.05,
  batch: 32,
  optimizer: 'sgd',
  backend: 'wasm',
  workerUrl: new URL('file:///nowhere/stage.worker.js'),
  pollMs: 200,
};

describe('layerhive federate: options', { tags: ['behaviour'] }, () => {
  it('refuses a bad --shard with a typed error', async () => {
    for (const s of ['3/3', '1', 'a/b', '-1/2', '0/0', '1/2/3'])
      expect(() => parseShard(s)).toThrow(
        expect.objectContaining({ name: 'LayerhiveError', code: 'INVALID_ARGUMENT' }),
      );
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    await expect(runFederate({ ...base, shard: '2/2' })).rejects.toMatchObject({
      name: 'LayerhiveError',
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('--shard 2/2'),
    });
  });

  it('refuses a --server that is not an http(s) URL with a typed error', async () => {
    for (const s of ['127.0.0.1:9095', 'ftp://host:1', 'not a url', 'http://h:1/?x=1'])
      expect(() => parseServer(s)).toThrow(
        expect.objectContaining({ name: 'LayerhiveError', code: 'INVALID_ARGUMENT' }),
      );
    expect(parseServer('http://127.0.0.1:9095/')).toBe('http://127.0.0.1:9095');
    await expect(runFederate({ ...base, server: 'localhost:9095' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('--server'),
    });
  });

  it('refuses a non-positive --non-iid', async () => {
    await expect(runFederate({ ...base, nonIid: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it("--write-initial writes the ServerApp's init-dir: a manifest and one .npy per array", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layerhive-init-'));
    const lines: string[] = [];
    await runFederate({ ...base, writeInitial: dir }, { log: (l) => lines.push(l) });
    const { names } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(names.length).toBe(4); // two dense layers: weights and biases
    for (let i = 0; i < names.length; i++) expect(existsSync(join(dir, `${i}.npy`))).toBe(true);
    expect(lines.join('\n')).toContain('wrote 4 initial arrays');
  }, 60_000);

  it("--init starts from a checkpoint's network and weights: a train --out folder or a version's folder", async () => {
    const backend = await createBackend('js');
    // a network other than the options' (16 hidden units, not 32), with weights no seed would give
    const config: RuleConfig = {
      rule: 'backprop',
      model: 'mlp',
      layers: [{ type: 'flatten' }, { type: 'dense', units: 16 }, { type: 'tanh' }, { type: 'dense', units: 10 }],
      inputShape: [1, 28, 28],
      classes: 10,
      optimizer: { type: 'adam', lr: 0.001 },
      seed: 99,
    };
    const rule = createRule(config, backend);
    for (const [, t] of rule.params()) assign(t, mul(t, 1.5));
    const runs = mkdtempSync(join(tmpdir(), 'layerhive-init-ck-'));
    const { store, name } = FsCheckpointStore.at(join(runs, 'start'));
    await store.save(name, await captureCheckpoint(rule, config));
    const want = new Map<string, Float32Array>();
    for (const [g, st] of Object.entries(await saveGroups(rule)))
      for (const [k, t] of Object.entries(st.tensors)) want.set(`${g}/${k}`, Float32Array.from(t.data));
    rule.dispose();
    const version = readdirSync(join(runs, 'start')).find((d) => /^v\d+$/.test(d))!;
    for (const init of [join(runs, 'start'), join(runs, 'start', version)]) {
      const dir = mkdtempSync(join(tmpdir(), 'layerhive-init-'));
      await runFederate({ ...base, init, writeInitial: dir }, { log: () => {} });
      const { names } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { names: string[] };
      expect([...names].sort()).toEqual([...want.keys()].sort());
      for (const [i, n] of names.entries()) {
        const npy = decodeNpy(new Uint8Array(readFileSync(join(dir, `${i}.npy`))));
        expect(npy.data).toEqual(want.get(n));
      }
    }
    await expect(runFederate({ ...base, init: join(runs, 'none') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);
});

let flower: LocalFlower | undefined;
afterAll(() => flower?.stop());

describe('layerhive federate: one round with a real SuperLink', { tags: ['outside'] }, () => {
  it('trains, evaluates, prints a line per message, and leaves the federation when stopped', async () => {
    flower = await startFlower();
    const init = mkdtempSync(join(tmpdir(), 'layerhive-init-'));
    await runFederate({ ...base, writeInitial: init }, { log: () => {} });
    const stop = new AbortController();
    const logs: string[][] = [[], []];
    const clients = [0, 1].map((i) =>
      runFederate(
        { ...base, server: flower!.server, shard: `${i}/2` },
        { signal: stop.signal, log: (l) => logs[i].push(l) },
      ),
    );
    const out = join(init, 'out');
    flower.run({ 'init-dir': init, 'out-dir': out, 'num-server-rounds': 1, 'min-nodes': 2, 'local-epochs': 1 });
    const t0 = Date.now();
    while (!existsSync(join(out, 'summary.json'))) {
      if (Date.now() - t0 > 90_000) throw new Error(`no result after 90 s:\n${flower.superlinkLog().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    stop.abort();
    await Promise.all(clients);
    for (const l of logs) {
      const text = l.join('\n');
      expect(text).toMatch(/round 1 train: loss \d+\.\d+, local accuracy \d+\.\d% · sent \d+\.\d kB/);
      expect(text).toMatch(/round 1 evaluate: local accuracy \d+\.\d% · sent/);
      expect(text).toMatch(/node \d+ deactivated and unregistered/);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.evaluate['1'].accuracy).toBeGreaterThan(0.3);
  }, 180_000);
});
