// @module-tag outside
// A SuperLink restart under a running `layerhive federate --out DIR` (runFederate, in this process), with real Flower
// 1.42: a 2-round run, then the SuperLink is killed and a new one started on the same port (its state is in memory:
// every node and run forgotten). The client sees it unreachable, backs off, finds itself unknown (HTTP 401),
// registers as a new node, and trains the new SuperLink's run; the checkpoint versions written before the restart
// are still there, unchanged, and new ones follow, each saying which server, run and round made it.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFlower, startFlower } from '../../../federated/local-flower.mjs';
import { runFederate } from '../../../src/cli/federate.js';
import { createBackend } from '../../../src/index.js';
import { createRule } from '../../../src/learn/create.js';
import { FederatedError } from '../../../src/federated/errors.js';
import { ruleArrays } from '../../../src/federated/rule-client.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import type { VersionInfo } from '../../../src/store/store.js';
import { faultConfig, startRun, type Summary, until, waitForSummary, workDir } from './faults-common.js';

let flower: LocalFlower | undefined;
const abort = new AbortController();
const lines: string[] = [];
const faults: { error: Error; at: number }[] = [];
let federating: Promise<void> | undefined;
let settled = false;
let restartAt = 0;
let runs: string[] = [];
const summaries: Summary[] = [];
let before: { info: VersionInfo[]; digests: string[] };
let after: { info: VersionInfo[]; digests: string[] };
let out = '';

/** The node ids the client registered under, from its "node N registered and active" lines. */
const nodeIds = () => lines.flatMap((l) => /node (\d+) registered and active/.exec(l)?.[1] ?? []);
const store = () => FsCheckpointStore.at(out);
/** Every version's weights, by SHA-256 of their bytes in group order. */
async function versions(): Promise<{ info: VersionInfo[]; digests: string[] }> {
  const { store: s, name } = store();
  const info = await s.list(name);
  const digests: string[] = [];
  for (const v of info) {
    const ck = await s.load(name, { version: v.version });
    const h = createHash('sha256');
    for (const g of Object.values(ck.groups)) for (const t of Object.values(g.tensors)) h.update(t.data);
    digests.push(h.digest('hex'));
  }
  return { info, digests };
}

describe('a SuperLink restart under a running layerhive federate --out', () => {
  beforeAll(async () => {
    flower = await startFlower();
    const work = workDir();
    out = join(work, 'federated-mnist');
    const backend = await createBackend('wasm');
    const init = createRule(faultConfig(32), backend);
    const arrays = await ruleArrays(init);
    init.dispose();
    backend.destroy?.();

    federating = runFederate(
      {
        server: flower.server,
        rule: 'backprop',
        model: 'mlp',
        data: 'mnist',
        shard: '0/1',
        limit: 400,
        hidden: 32,
        seed: 7,
        testImages: 200,
        epochs: 1,
        lr: 0.05,
        batch: 32,
        optimizer: 'sgd',
        backend: 'wasm',
        workerUrl: new URL('../../../dist/stage.worker.js', import.meta.url),
        out,
        heartbeat: 10,
        pollMs: 300,
      },
      {
        signal: abort.signal,
        log: (l) => lines.push(l),
        onFault: (error) => faults.push({ error, at: Date.now() }),
      },
    ).finally(() => {
      settled = true;
    });
    await until(() => lines.some((l) => /registered and active/.test(l)) || settled, 60, 'the node registering');

    const first = startRun(flower, work, 'before', arrays, { 'num-server-rounds': 2, 'min-nodes': 1 });
    summaries.push(await waitForSummary(flower, first, 90));
    await until(() => lines.filter((l) => /^checkpoint .* version/.test(l)).length >= 2, 30, 'two versions');
    before = await versions();

    restartAt = Date.now();
    await flower.restart({ downMs: 3000 });
    await until(
      () => lines.filter((l) => /registered and active/.test(l)).length >= 2,
      60,
      'the node registering again',
    );

    const second = startRun(flower, work, 'after', arrays, { 'num-server-rounds': 2, 'min-nodes': 1 });
    summaries.push(await waitForSummary(flower, second, 90));
    await until(() => lines.filter((l) => /^checkpoint .* version/.test(l)).length >= 4, 30, 'four versions');
    after = await versions();
    runs = [first.runId, second.runId];
    console.log(lines.join('\n'));
    // the backoff, for the report: seconds between the pulls that found the SuperLink down
    const pulls = faults.filter(
      (f) => f.at >= restartAt && /pull-messages.*could not be reached/.test(f.error.message),
    );
    console.log(
      `failed pulls while down, s apart: ${pulls.slice(1).map((f, i) => ((f.at - pulls[i].at) / 1000).toFixed(1))}`,
    );
  }, 240_000);

  afterAll(async () => {
    abort.abort();
    await federating?.catch(() => {});
    flower?.stop();
  });

  it('sees the SuperLink unreachable, backs off, then finds itself forgotten (401) and registers as a new node', () => {
    const down = faults.filter((f) => f.at >= restartAt);
    const kinds = down.map((f) => (f.error instanceof FederatedError ? f.error.fault : 'other'));
    expect(kinds).toContain('unreachable');
    const forgotten = down.find((f) => f.error instanceof FederatedError && f.error.status === 401);
    expect(forgotten).toBeDefined();
    const unreachable = down.filter((f) => f.error instanceof FederatedError && f.error.fault === 'unreachable');
    expect(unreachable[0].at).toBeLessThan(forgotten!.at);
    const ids = nodeIds();
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it("keeps running and trains both runs: the one before the restart and the new SuperLink's", () => {
    expect(settled).toBe(false);
    for (const s of summaries) expect(Object.keys(s.train).sort()).toEqual(['1', '2']);
    expect(runs[0]).not.toBe(runs[1]);
  });

  it('keeps the versions written before the restart, unchanged, and adds one per train round after it', () => {
    expect(before.info.map((v) => v.version)).toEqual([1, 2]);
    expect(after.info.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    expect(after.digests.slice(0, 2)).toEqual(before.digests);
    expect(after.info.slice(0, 2).map((v) => v.meta)).toEqual(before.info.map((v) => v.meta));
    const ids = nodeIds();
    expect(after.info.map((v) => v.meta.federated)).toEqual([
      { server: flower!.server, run: runs[0], round: 1, node: ids[0] },
      { server: flower!.server, run: runs[0], round: 2, node: ids[0] },
      { server: flower!.server, run: runs[1], round: 1, node: ids[1] },
      { server: flower!.server, run: runs[1], round: 2, node: ids[1] },
    ]);
    // every train round's weights differ from the last: each version is that round's training
    expect(new Set(after.digests).size).toBe(4);
  });
});
