/**
 * The stage-to-stage channel over a real MessageChannel (node:worker_threads): per-kind queues, each with a credit
 * window, so a fast sender stops `window` messages ahead of a receiver that does not read and goes on as it reads;
 * kinds never block each other; waiting is counted; abort/close release every waiter; buffers are transferred.
 *
 * Synchronisation without timing: a MessagePort delivers in order, so once a later message of another kind has
 * arrived, every earlier one has too. `toB` / `toA` make that round trip, so "the sender is still blocked" is
 * asserted after every message and acknowledgement that could have freed it has been delivered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { Channel, type PortLike } from '../../../src/parallel/channel.js';
import { LayerhiveError } from '../../../src/core/errors.js';

let open: Channel[] = [];
afterEach(() => {
  for (const c of open) c.close();
  open = [];
});

/**
 * Two ends of one MessageChannel, and the round trips that let a test wait for delivery: after `toB()` every message
 * a sent before has reached b; after `toA()` every message b posted before (acknowledgements included) has been
 * handled by a, and a sender that acknowledgement freed has resumed. Their own messages are counted apart.
 */
function pair(window?: number) {
  const mc = new MessageChannel();
  const a = new Channel(mc.port1 as unknown as PortLike, window);
  const b = new Channel(mc.port2 as unknown as PortLike, window);
  open.push(a, b);
  let syncs = 0,
    syncsFromA = 0;
  return {
    a,
    b,
    async toB(): Promise<void> {
      const n = syncs++;
      syncsFromA++;
      await a.send(`sync${n}`, n);
      expect(await b.receive<number>(`sync${n}`)).toBe(n);
    },
    async toA(): Promise<void> {
      const n = syncs++;
      await b.send(`sync${n}`, n);
      expect(await a.receive<number>(`sync${n}`)).toBe(n);
      // a sender woken by an acknowledgement handled before this message resumes in microtasks queued before ours
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
    /** Messages a posted other than the sync round trips'. */
    sentByA: () => a.messagesSent - syncsFromA,
  };
}

/** A sender that sends 0 … count-1 under `kind` one after the other, as a stage does, recording each send done. */
function producer(ch: Channel, kind: string, count: number) {
  const sent: number[] = [];
  const done = (async () => {
    for (let i = 0; i < count; i++) {
      await ch.send(kind, i);
      sent.push(i);
    }
  })();
  done.catch(() => undefined);
  return { sent, done };
}

describe('channel credit window', { tags: ['invariant'] }, () => {
  it.each([1, 2, 3])('a sender with window %i stops that many messages ahead and goes on one per read', async (w) => {
    const ch = pair(w);
    const total = w + 3;
    const p = producer(ch.a, 'act', total);
    await ch.toB();
    await ch.toA();
    // the receiver has read nothing: exactly `window` messages went out, the next send waits for credit
    expect(p.sent).toEqual(Array.from({ length: w }, (_, i) => i));
    expect(ch.sentByA()).toBe(w);

    const received: number[] = [];
    for (let r = 1; r <= total; r++) {
      received.push(await ch.b.receive<number>('act'));
      await ch.toA(); // b's acknowledgement reached a and freed the sender
      await ch.toB(); // what the sender posted then reached b …
      await ch.toA(); // … and nothing else came of it
      // each read frees exactly one more send, never more: sends done = min(total, reads + window)
      expect(p.sent).toHaveLength(Math.min(total, r + w));
      expect(ch.sentByA()).toBe(Math.min(total, r + w));
    }
    await p.done;
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('the default window is 2', async () => {
    const ch = pair();
    const p = producer(ch.a, 'act', 5);
    await ch.toB();
    await ch.toA();
    expect(p.sent).toEqual([0, 1]);
    for (let i = 0; i < 5; i++) expect(await ch.b.receive<number>('act')).toBe(i);
    await p.done;
  });

  it('kinds do not block each other: with the activations stuck, errors flow both ways, in order', async () => {
    const { a, b, toA, toB } = pair(2);
    const acts = producer(a, 'act', 4);
    await toB();
    await toA();
    expect(acts.sent).toEqual([0, 1]); // 'act' is out of credit

    // 'grad' has its own window: two go out from a at once, and b sends its own back meanwhile
    const gradsAB = producer(a, 'grad', 2);
    await gradsAB.done;
    const gradsBA = producer(b, 'grad', 3);
    for (let i = 0; i < 3; i++) expect(await a.receive<number>('grad')).toBe(i);
    await gradsBA.done;
    for (let i = 0; i < 2; i++) expect(await b.receive<number>('grad')).toBe(i);
    await toA();
    expect(acts.sent).toEqual([0, 1]); // reading 'grad' gave no 'act' credit

    // messages of two kinds interleaved on one port come out per kind in the order sent
    await a.send('x', 'x0');
    await a.send('y', 'y0');
    await a.send('x', 'x1');
    await a.send('y', 'y1');
    const got = [await b.receive('y'), await b.receive('x'), await b.receive('y'), await b.receive('x')];
    expect(got).toEqual(['y0', 'x0', 'y1', 'x1']);
    for (let i = 0; i < 4; i++) expect(await b.receive<number>('act')).toBe(i);
    await acts.done;
  });

  it('sends of one kind not awaited one by one still go out in call order, and every one completes', async () => {
    // with a single credit waiter per kind, a second blocked send used to replace the first: message 1 was
    // overtaken by 2 and its send never settled
    const { a, b } = pair(1);
    const sends = [a.send('act', 0), a.send('act', 1), a.send('act', 2)];
    const got = [await b.receive<number>('act'), await b.receive<number>('act'), await b.receive<number>('act')];
    expect(got).toEqual([0, 1, 2]);
    await Promise.all(sends);
    await a.send('act', 3); // takes the one credit
    const blocked = [a.send('act', 4), a.send('act', 5)]; // 4 waits for credit, 5 behind it
    a.close(); // releases both: neither is left pending
    const settled = await Promise.allSettled(blocked);
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(settled.map((r) => ((r as PromiseRejectedResult).reason as LayerhiveError).code)).toEqual([
      'ABORTED',
      'ABORTED',
    ]);
  });

  it('a message that comes before its reader is queued; one that comes after goes straight to it', async () => {
    const { a, b, toB } = pair(4);
    await a.send('act', 'early');
    await toB();
    expect(await b.receive<string>('act')).toBe('early');
    const late = b.receive<string>('act');
    await a.send('act', 'late');
    expect(await late).toBe('late');
  });
});

describe('channel waiting, closing and transfer', { tags: ['behaviour'] }, () => {
  it('waiting is counted: for credit when sending, for a message when receiving; none without a wait', async () => {
    // the sync round trips wait too, so each check compares the count just before and after one call
    const { a, b, toA, toB } = pair(1);
    await a.send('act', 0); // within the window: no wait
    expect(a.waitMs).toBe(0);
    await toB();
    let bw = b.waitMs;
    expect(await b.receive<number>('act')).toBe(0); // already queued: no wait
    expect(b.waitMs).toBe(bw);
    await toA(); // b's acknowledgement of 0 has reached a

    const aw = a.waitMs;
    await a.send('act', 1); // credit is back: no wait
    expect(a.waitMs).toBe(aw);
    const blocked = a.send('act', 2); // out of credit until b reads 1
    await toB(); // (a's sync send has credit of its own kind: it adds no wait on a)
    expect(a.waitMs).toBe(aw);
    expect(await b.receive<number>('act')).toBe(1);
    await blocked;
    expect(a.waitMs).toBeGreaterThan(aw);

    await toB();
    expect(await b.receive<number>('act')).toBe(2);
    bw = b.waitMs;
    const next = b.receive<number>('act'); // nothing queued: b waits for a's next message
    await a.send('act', 3);
    expect(await next).toBe(3);
    expect(b.waitMs).toBeGreaterThan(bw);
  });

  it('close() fails a sender blocked for credit and a waiting reader with ABORTED; later calls fail too', async () => {
    const ch = pair(1);
    const { a } = ch;
    await a.send('act', 0);
    const blockedSend = a.send('act', 1);
    const waitingRead = a.receive('grad');
    await ch.toB();
    await ch.toA();
    a.close();
    const [s, r] = await Promise.all([blockedSend.catch((e: unknown) => e), waitingRead.catch((e: unknown) => e)]);
    for (const e of [s, r]) {
      expect(e).toBeInstanceOf(LayerhiveError);
      expect((e as LayerhiveError).code).toBe('ABORTED');
    }
    await expect(a.send('grad', 0)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(() => a.receive('act')).toThrow(/aborted/);
    expect(ch.sentByA()).toBe(1); // the blocked message never went out
  });

  it('abort(reason) fails waiters with that reason (a peer died), on both the credit and the read side', async () => {
    const { a, b, toB } = pair(1);
    await a.send('act', 0);
    const blockedSend = a.send('act', 1);
    const waitingRead = b.receive('grad');
    await toB();
    const dead = new LayerhiveError('WORKER_FAILED', 'stage 1 ended', 'restart it');
    a.abort(dead);
    b.abort(dead);
    expect(await blockedSend.catch((e: unknown) => e)).toBe(dead);
    expect(await waitingRead.catch((e: unknown) => e)).toBe(dead);
  });

  it('two readers of one kind are refused with a typed error', () => {
    const { b } = pair();
    b.receive('act').catch(() => undefined);
    expect(() => b.receive('act')).toThrow(LayerhiveError);
    expect(() => b.receive('act')).toThrow(/two readers wait on 'act' messages/);
  });

  it('buffers are transferred, not copied, and their bytes counted', async () => {
    const { a, b } = pair();
    const x = new Float32Array([1, 2, 3, 4]),
      y = new Int32Array([7, 8]);
    await a.send('act', { x, y }, [x.buffer, y.buffer]);
    expect(x.buffer.byteLength).toBe(0); // detached on the sending side
    expect(y.buffer.byteLength).toBe(0);
    expect(a.bytesSent).toBe(16 + 8);
    expect(a.messagesSent).toBe(1);
    const got = await b.receive<{ x: Float32Array; y: Int32Array }>('act');
    expect([...got.x]).toEqual([1, 2, 3, 4]);
    expect([...got.y]).toEqual([7, 8]);
    await a.send('act', null);
    expect(a.bytesSent).toBe(24); // a message without buffers adds no bytes
    expect(await b.receive('act')).toBe(null);
  });
});
