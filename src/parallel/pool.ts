import * as Comlink from 'comlink';
import { LayerhiveError } from '../core/errors.js';
import type { Spawner, WorkerHandle } from './spawn.js';
import type { StageHost } from './stage-host.js';
import { carryTypedErrors } from './error-transfer.js';

export interface PoolOptions {
  /** Longest a call may take before the worker is declared hung (default 10 minutes). */
  timeoutMs?: number;
}

class WorkerEnded extends Error {}

interface Slot {
  handle: WorkerHandle;
  remote: Comlink.Remote<StageHost>;
  /** Why the worker ended, once it has. */
  dead: string | null;
  /** Rejects when the worker ends: every pending call races it. */
  died: Promise<never>;
}

/** The default pool size: the hardware threads (navigator.hardwareConcurrency, or the count given), at most `cap`. */
export function defaultWorkers(threads?: number, cap = 8): number {
  const n =
    threads ?? (typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2);
  return Math.max(1, Math.min(cap, n));
}

/**
 * N stage workers driven over comlink. Every call races the worker's death and a timeout, so a crashed,
 * throwing or hung stage surfaces as a typed error naming it (never a hang); `restart` replaces a worker.
 */
export class WorkerPool {
  private slots: Slot[];
  private closing = false;

  constructor(
    private spawn: Spawner,
    size: number,
    private opts: PoolOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new LayerhiveError('INVALID_ARGUMENT', `a pool of ${size} workers`, 'use at least one worker');
    carryTypedErrors();
    this.slots = Array.from({ length: size }, () => this.start());
  }

  get size(): number {
    return this.slots.length;
  }

  isDead(i: number): boolean {
    return this.slots[i].dead !== null;
  }

  /** Runs `fn` on worker i's stage; `what` names the call in errors. */
  async call<T>(
    i: number,
    what: string,
    fn: (stage: Comlink.Remote<StageHost>) => Promise<T>,
    timeoutMs = this.opts.timeoutMs ?? 600_000,
  ): Promise<T> {
    const slot = this.slots[i];
    const who = `stage ${i} (${what})`;
    if (slot.dead)
      throw new LayerhiveError(
        'WORKER_FAILED',
        `${who}: the worker is gone (${slot.dead})`,
        'restart it (the coordinator does so during training)',
        who,
      );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new LayerhiveError(
      'TIMEOUT',
      `${who} did not answer within ${timeoutMs} ms`,
      'the worker is restarted; raise timeoutMs for very large steps',
      who,
    );
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut), timeoutMs);
    });
    try {
      return await Promise.race([fn(slot.remote), slot.died, timeout]);
    } catch (e) {
      if (e === timedOut) {
        // marked dead now, stopped in the background: the caller hears of this stage's timeout before a neighbour's
        // (which may time out in the same tick, waiting on this one) whatever order the threads take to end
        void this.kill(i);
        throw e;
      }
      if (e instanceof WorkerEnded)
        throw new LayerhiveError(
          'WORKER_FAILED',
          `${who}: the worker ended (${e.message})`,
          'the coordinator restarts it from the last synced state',
          who,
        );
      // a typed error raised in the worker keeps its code and hint (error-transfer.ts), and names the stage
      if (e instanceof LayerhiveError) throw new LayerhiveError(e.code, `${who} threw: ${e.detail}`, e.hint, who);
      const msg = e instanceof Error ? e.message : String(e);
      throw new LayerhiveError(
        'WORKER_FAILED',
        `${who} threw: ${msg}`,
        'see the message above; the stage’s state is the last synced copy',
        who,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops worker i as a crash would (fault injection, or a hung worker). */
  async kill(i: number): Promise<void> {
    const slot = this.slots[i];
    slot.dead ??= 'killed';
    await slot.handle.terminate();
  }

  /** Replaces worker i by a fresh one (its state must be restored by the caller). */
  async restart(i: number): Promise<void> {
    const old = this.slots[i];
    old.dead ??= 'replaced';
    old.remote[Comlink.releaseProxy]();
    await old.handle.terminate();
    this.slots[i] = this.start();
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async (s) => {
        s.dead ??= 'closed';
        s.remote[Comlink.releaseProxy]();
        await s.handle.terminate();
      }),
    );
  }

  private start(): Slot {
    const handle = this.spawn();
    const slot = { handle, remote: Comlink.wrap<StageHost>(handle.endpoint), dead: null } as Slot;
    slot.died = new Promise<never>((_, reject) => {
      handle.onExit((reason) => {
        if (this.closing) return;
        slot.dead ??= reason;
        reject(new WorkerEnded(slot.dead));
      });
    });
    slot.died.catch(() => undefined); // raced by calls; never an unhandled rejection on its own
    return slot;
  }
}
