import { fail, LayerhiveError } from '../core/errors.js';

/** The part of MessagePort a channel uses; Web and Node ports both have it. */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent) => void) | null;
  close(): void;
}

interface Envelope {
  kind: string;
  body: unknown;
  bytes: number;
}
interface Ack {
  ack: string;
}

/**
 * One end of a direct stage-to-stage link over a MessagePort. Messages are tagged with a kind
 * ('act' forward, 'grad' backward, …); each kind has its own queue and a credit window, so a fast sender
 * cannot run more than `window` messages ahead of its receiver. Buffers in a message are transferred,
 * never copied, and their bytes counted.
 */
export class Channel {
  bytesSent = 0;
  messagesSent = 0;
  /** Milliseconds spent waiting: for a message to arrive, or for credit to send. */
  waitMs = 0;
  private queues = new Map<string, unknown[]>();
  private waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private inFlight = new Map<string, number>();
  /** The one send of each kind waiting for credit (sends of a kind are chained through `sending`). */
  private creditWaiters = new Map<string, () => void>();
  private sending = new Map<string, Promise<void>>();
  private failure: Error | null = null;

  constructor(
    private port: PortLike,
    private window = 2,
  ) {
    port.onmessage = (ev: MessageEvent) => this.deliver(ev.data as Envelope | Ack);
  }

  /**
   * Sends `body` under `kind`, transferring `transfer`; waits while `window` messages of that kind are unread. Sends
   * of one kind go out in the order they were called, even when the caller does not await each one.
   */
  send(kind: string, body: unknown, transfer: ArrayBuffer[] = []): Promise<void> {
    const mine = (this.sending.get(kind) ?? Promise.resolve()).then(() => this.sendNow(kind, body, transfer));
    this.sending.set(
      kind,
      mine.catch(() => undefined),
    );
    return mine;
  }

  /** One send, the only one of its kind under way: waits for credit, then posts. */
  private async sendNow(kind: string, body: unknown, transfer: ArrayBuffer[]): Promise<void> {
    while ((this.inFlight.get(kind) ?? 0) >= this.window) {
      this.check();
      const t0 = performance.now();
      await new Promise<void>((r) => this.creditWaiters.set(kind, r));
      this.waitMs += performance.now() - t0;
    }
    this.check();
    const bytes = transfer.reduce((s, b) => s + b.byteLength, 0);
    this.inFlight.set(kind, (this.inFlight.get(kind) ?? 0) + 1);
    this.bytesSent += bytes;
    this.messagesSent++;
    this.port.postMessage({ kind, body, bytes } satisfies Envelope, transfer);
  }

  /** The next message of `kind`, in the order sent. */
  receive<T>(kind: string): Promise<T> {
    this.check();
    const q = this.queues.get(kind);
    if (q?.length) return Promise.resolve(this.take(kind, q.shift()) as T);
    if (this.waiting.has(kind))
      fail('INVALID_ARGUMENT', `two readers wait on '${kind}' messages`, 'receive one message of a kind at a time');
    const t0 = performance.now();
    return new Promise<T>((resolve, reject) =>
      this.waiting.set(kind, {
        resolve: (v) => {
          this.waitMs += performance.now() - t0;
          resolve(v as T);
        },
        reject,
      }),
    );
  }

  /** Fails every pending and later send/receive with `reason` (a stage was aborted or a peer died). */
  abort(
    reason: Error = new LayerhiveError('ABORTED', 'the channel was aborted', 'the coordinator restarts the step'),
  ): void {
    this.failure = reason;
    for (const w of this.waiting.values()) w.reject(reason);
    this.waiting.clear();
    for (const r of this.creditWaiters.values()) r();
    this.creditWaiters.clear();
  }

  close(): void {
    this.abort();
    this.port.onmessage = null;
    this.port.close();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private take(kind: string, body: unknown): unknown {
    this.port.postMessage({ ack: kind } satisfies Ack);
    return body;
  }

  private deliver(m: Envelope | Ack): void {
    if ('ack' in m) {
      this.inFlight.set(m.ack, (this.inFlight.get(m.ack) ?? 1) - 1);
      const r = this.creditWaiters.get(m.ack);
      this.creditWaiters.delete(m.ack);
      r?.();
      return;
    }
    const w = this.waiting.get(m.kind);
    if (w) {
      this.waiting.delete(m.kind);
      w.resolve(this.take(m.kind, m.body));
      return;
    }
    const q = this.queues.get(m.kind) ?? [];
    q.push(m.body);
    this.queues.set(m.kind, q);
  }
}
