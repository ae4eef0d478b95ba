// @module-tag outside
// Malformed and oversized messages between a layerhive SuperNode and a real Flower 1.42 SuperLink. Two nodes train a
// 4-round FedAvg run that needs 2; one of them reaches the SuperLink through a fetch that spoils some answers:
//   message 1 (round 1 train):    the first pull-object answer is not protobuf (a proxy's HTML page)
//   message 2 (round 1 evaluate): one pulled object with a flipped byte (it no longer hashes to its id)
//   message 3 (round 2 train):    one pull-object answer that never ends (over maxResponseBytes, no Content-Length)
//   message 5 (round 3 train):    the pull-messages answer itself is not protobuf: the message is lost
// The node reports each as a typed FederatedError and answers messages 1-3 with Flower's error, so those rounds go
// on at once with the other node's result; message 5 cannot be answered (its id never arrived), so that round waits
// for the ServerApp's `timeout` (25 s here). The node answers every other message normally, and trains round 4.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFlower, startFlower } from '../../../federated/local-flower.mjs';
import { createBackend } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { createRule } from '../../../src/learn/create.js';
import { FederatedError } from '../../../src/federated/errors.js';
import { PullMessagesResponseSchema } from '../../../src/federated/generated/flwr/proto/fleet_pb.generated.js';
import { PullObjectResponseSchema } from '../../../src/federated/generated/flwr/proto/message_pb.generated.js';
import { ruleArrays } from '../../../src/federated/rule-client.js';
import { SuperNode } from '../../../src/federated/supernode.js';
import {
  faultConfig,
  shardApp,
  replyCounts,
  startRun,
  type Summary,
  waitForSummary,
  workDir,
} from './faults-common.js';

const LIMIT = 1 << 20; // the spoilt node's maxResponseBytes: 10 × the largest honest answer (a 100 kB array chunk)
type Spoil = 'hash' | 'protobuf' | 'endless' | 'lost';
const plan: Record<number, Spoil> = { 1: 'protobuf', 2: 'hash', 3: 'endless', 5: 'lost' };
const html = new TextEncoder().encode('<html><body><h1>502 Bad Gateway</h1></body></html>');

let flower: LocalFlower | undefined;
const abort = new AbortController();
const seen: { client: number; type: string; error?: Error }[] = [];
const faults: Error[] = [];
let messages = 0;
const endless = { sent: 0, cancelled: false };
let summary: Summary;
let log = '';
let running: Promise<void>[] = [];

/** A fetch that passes everything through to the SuperLink, but spoils the answers `plan` names. */
const spoiling: typeof fetch = async (url, init) => {
  const res = await fetch(url, init);
  const rpc = String(url).split('/').pop();
  if (rpc === 'pull-messages' && res.ok) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (fromBinary(PullMessagesResponseSchema, bytes).messagesList.length === 0) return new Response(bytes);
    messages++;
    armed = plan[messages];
    if (armed === 'lost') return new Response(html);
    return new Response(bytes);
  }
  if (rpc !== 'pull-object' || !armed || armed === 'lost') return res;
  const bytes = new Uint8Array(await res.arrayBuffer());
  const r = fromBinary(PullObjectResponseSchema, bytes);
  // the first answer, at once: the ServerApp is often still pushing the message's objects (see supernode.ts: such a
  // message must not be confirmed)
  if (armed === 'protobuf') {
    armed = undefined;
    return new Response(html);
  }
  // an object the ServerApp has not pushed yet comes back empty (the node asks again): spoil one with content
  if (!r.objectAvailable) return new Response(bytes);
  const spoil = armed;
  armed = undefined;
  if (spoil === 'hash') {
    r.objectContent[r.objectContent.length - 1] ^= 1;
    return new Response(toBinary(PullObjectResponseSchema, r));
  }
  // an answer that never ends: 64 KiB chunks for as long as the reader reads
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(c) {
        endless.sent += 1 << 16;
        c.enqueue(new Uint8Array(1 << 16));
      },
      cancel() {
        endless.cancelled = true;
      },
    }),
  );
};
let armed: Spoil | undefined;

describe('malformed and oversized messages from a real Flower 1.42 SuperLink', () => {
  beforeAll(async () => {
    flower = await startFlower();
    const mnist = await loadMnist();
    const backend = await createBackend('wasm');
    const work = workDir();
    const config = faultConfig(32);
    const nodes = [0, 1].map((i) => {
      const app = shardApp(config, backend, mnist, i);
      const node = new SuperNode({
        server: flower!.server,
        pollMs: 300,
        heartbeatInterval: 10,
        ...(i === 1 ? { fetch: spoiling, maxResponseBytes: LIMIT, onFault: (e: Error) => faults.push(e) } : {}),
        onRound: (r) => seen.push({ client: i, type: r.message.messageType, error: r.error }),
      });
      return { node, app };
    });
    for (const { node } of nodes) await node.connect(abort.signal);
    running = nodes.map(({ node, app }) => node.run(app.handler, abort.signal));

    const init = createRule(config, backend);
    const arrays = await ruleArrays(init);
    init.dispose();
    const run = startRun(flower, work, 'spoilt', arrays, {
      'num-server-rounds': 4,
      'min-nodes': 2,
      timeout: 25,
    });
    summary = await waitForSummary(flower, run, 150);
    log = flower.runLog(run.runId);
    console.log(
      log
        .split('\n')
        .filter((l) => /aggregate_|Received error/.test(l))
        .join('\n'),
    );
  }, 240_000);

  afterAll(async () => {
    abort.abort();
    await Promise.all(running.map((r) => r.catch(() => {})));
    flower?.stop();
  });

  it("reports each spoilt answer as a typed FederatedError ('malformed', 'oversized')", () => {
    const got = faults.map((e) => [e instanceof FederatedError ? e.fault : e.name, e.message]);
    expect(got).toEqual([
      ['malformed', expect.stringMatching(/pull-object: the answer is not a flwr\.proto\.PullObjectResponse/)],
      ['malformed', expect.stringMatching(/does not hash to its id/)],
      ['oversized', expect.stringMatching(/pull-object: an answer of more than 1048576 bytes/)],
      ['malformed', expect.stringMatching(/pull-messages: the answer is not a flwr\.proto\.PullMessagesResponse/)],
    ]);
    // the endless answer was cancelled once past the limit, not read on
    expect(endless.cancelled).toBe(true);
    expect(endless.sent).toBeLessThanOrEqual(LIMIT + 4 * (1 << 16));
  });

  it("answers messages 1-3 with Flower's error, which the ServerApp counts as failures at once", () => {
    expect(replyCounts(log, 'train')).toEqual([
      [1, 1],
      [1, 1],
      [1, 0], // message 5, lost: the round ended at the ServerApp's timeout, with the other node's result
      [2, 0],
    ]);
    expect(replyCounts(log, 'evaluate')).toEqual([
      [1, 1],
      [2, 0],
      [2, 0],
      [2, 0],
    ]);
    expect(log).toMatch(/Received error in reply from node \d+: malformed: object [0-9a-f]{64} does not hash/);
    expect(log).toMatch(/Received error in reply from node \d+: oversized: Fleet pull-object/);
    const spoilt = seen.filter((s) => s.client === 1);
    expect(spoilt.map((s) => [s.type, s.error instanceof FederatedError ? s.error.fault : s.error])).toEqual([
      ['train', 'malformed'],
      ['evaluate', 'malformed'],
      ['train', 'oversized'],
      ['evaluate', undefined],
      ['evaluate', undefined],
      ['train', undefined],
      ['evaluate', undefined],
    ]);
  });

  it('keeps running: the spoilt node answers the next messages and trains round 4; every round finishes', () => {
    expect(Object.keys(summary.train).sort()).toEqual(['1', '2', '3', '4']);
    expect(Object.keys(summary.evaluate).sort()).toEqual(['1', '2', '3', '4']);
    expect(seen.filter((s) => s.client === 0 && !s.error)).toHaveLength(8);
  });
});
