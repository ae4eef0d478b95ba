import { fail, LayerhiveError } from '../../core/errors.js';
import { type KernelExports, kernelExportNames } from './exports.js';
import {
  ARGS_BYTE,
  COUNT,
  DIE,
  DONE,
  FN,
  type HelperInit,
  MAX_ARGS,
  NARGS,
  nodeHelperSource,
  SEQ,
  SLOT_BYTES,
  STALL,
  STATUS,
  STEPS_BYTE,
  STOP,
  webHelperSource,
} from './team-worker-source.js';

export type KernelExportName = (typeof kernelExportNames)[number];

/**
 * One thread's share of a split kernel: an export of the kernels and its arguments (byte offsets, sizes), called
 * `count` times (default 1) with `step` added to the arguments after each call (default: no change).
 */
export interface TeamCall {
  fn: KernelExportName;
  args: readonly number[];
  count?: number;
  step?: readonly number[];
}

/** A helper thread as the team sees it, whatever the runtime. */
interface Helper {
  /** Ends the thread; settles once it has ended (browsers: at once). */
  terminate(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
/**
 * A helper that has not answered this long after the caller finished its own (equal) share is taken for dead: long
 * enough that a live helper a loaded machine has descheduled is not, and a dead one costs this wait once.
 */
const ANSWER_TIMEOUT_MS = 15_000;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const now = () => performance.now();

/** Whether this thread may block in Atomics.wait (browsers' main thread may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Helper threads that share the backend's wasm memory and run slices of a kernel while the calling thread runs its
 * own (intra-op parallelism). Each helper instantiates the same compiled module over the same shared memory and
 * waits on its slot of the control block (team-worker-source.ts). `run` posts the helpers' calls, runs the
 * caller's, then waits for every helper: a helper that died or does not answer in time makes the call fail with
 * WORKER_FAILED, and the team stops for good (`failure` says why; the backend goes on in one thread).
 */
export class Team {
  /** Threads that work on a call: the caller and its helpers. */
  readonly size: number;
  /** How long past the caller's own share a helper may take before it is taken for dead (ms). */
  timeoutMs = ANSWER_TIMEOUT_MS;
  /** Calls split over the team so far, and how many of them ran each export. */
  runs = 0;
  readonly runsOf = new Map<KernelExportName, number>();
  private readonly ctl: Int32Array;
  private readonly f64: Float64Array;
  private readonly helpers: Helper[];
  private readonly block = canBlock();
  private seq = 0;
  private failed: string | null = null;
  private stopping = false;
  /** Test hook: the next call makes these helpers die or stall instead of working (one-shot). */
  private readonly misbehave = new Map<number, 'die' | 'stall'>();

  private constructor(control: SharedArrayBuffer, helpers: Helper[]) {
    this.ctl = new Int32Array(control);
    this.f64 = new Float64Array(control);
    this.helpers = helpers;
    this.size = helpers.length + 1;
  }

  /** Starts `count` helpers over `memory` and waits until every one has instantiated `module`. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number): Promise<Team> {
    const control = new SharedArrayBuffer(count * SLOT_BYTES);
    const names = [...kernelExportNames];
    const handles: Helper[] = [];
    let team: Team | null = null,
      abandoned = false;
    const onExit = (slot: number, why: string) => team?.lost(slot, why);
    try {
      const started = Array.from({ length: count }, (_, slot) =>
        spawn({ module, memory, control, slot, names }, (why) => onExit(slot, why)).then((h) => {
          handles[slot] = h.helper;
          if (abandoned) void h.helper.terminate(); // another helper failed first
          return h.ready;
        }),
      );
      await withTimeout(Promise.all(started), START_TIMEOUT_MS, `helpers did not start in ${START_TIMEOUT_MS} ms`);
    } catch (e) {
      abandoned = true;
      for (const h of handles) void h?.terminate();
      throw e;
    }
    team = new Team(control, handles);
    return team;
  }

  /** Why the team stopped working, or null while it works. */
  get failure(): string | null {
    return this.failed;
  }

  /**
   * Runs `calls[0]` on this thread and `calls[i]` on helper i at the same time; returns when all are done. The calls
   * must touch disjoint outputs and scratch. Throws WORKER_FAILED when a helper dies, stalls or raises.
   */
  run(k: KernelExports, calls: readonly TeamCall[]): void {
    if (this.failed) fail('WORKER_FAILED', `the wasm thread team is down: ${this.failed}`, 'run with threads: 1');
    if (calls.length > this.size)
      fail('INVALID_ARGUMENT', `${calls.length} calls for ${this.size} threads`, 'split less');
    this.runs++;
    this.runsOf.set(calls[0].fn, (this.runsOf.get(calls[0].fn) ?? 0) + 1);
    this.seq = (this.seq + 1) | 0 || 1;
    const seq = this.seq;
    for (let h = 1; h < calls.length; h++) this.post(h - 1, calls[h], seq);
    const t0 = now();
    let own: { error: unknown } | null = null;
    try {
      invoke(k, calls[0]);
    } catch (error) {
      own = { error }; // rethrown once the helpers are done with the memory
    }
    const deadline = now() + this.timeoutMs + 10 * (now() - t0);
    let raised = -1;
    for (let h = 1; h < calls.length; h++) {
      if (!this.await(h - 1, seq, deadline)) {
        const ms = Math.round(deadline - t0);
        const why = `helper ${h} did not answer ${calls[h].fn} within ${ms} ms (dead or stalled)`;
        this.stop(why);
        throw new LayerhiveError(
          'WORKER_FAILED',
          why,
          'the backend goes on in one thread; create a new backend to use threads again',
        );
      }
      if (this.ctl[(h - 1) * (SLOT_BYTES / 4) + STATUS] !== 0 && raised < 0) raised = h;
    }
    if (own) throw own.error;
    if (raised > 0) fail('WORKER_FAILED', `helper ${raised} raised in ${calls[raised].fn}`, 'a kernel bug: report it');
  }

  /** Ends the helpers (their work is lost); `why` becomes `failure`. */
  stop(why = 'stopped'): void {
    if (this.stopping) return;
    this.stopping = true;
    this.failed ??= why;
    for (let s = 0; s < this.helpers.length; s++) {
      const i = s * (SLOT_BYTES / 4);
      this.ctl[i + FN] = STOP;
      Atomics.add(this.ctl, i + SEQ, 1);
      Atomics.notify(this.ctl, i + SEQ);
      void this.helpers[s].terminate();
    }
  }

  /** Test hook: on the next call, helper `helper` (1-based, as in `run`) dies or stalls instead of working. */
  misbehaveNext(helper: number, how: 'die' | 'stall'): void {
    this.misbehave.set(helper, how);
  }

  /** Test hook: ends helper `helper` (1-based) from outside, between calls, as a crash would. */
  killForTests(helper: number): Promise<void> {
    return this.helpers[helper - 1].terminate();
  }

  private lost(slot: number, why: string): void {
    if (!this.stopping) this.stop(`helper ${slot + 1} ended: ${why}`);
  }

  private post(slot: number, call: TeamCall, seq: number): void {
    const i = slot * (SLOT_BYTES / 4),
      a = (slot * SLOT_BYTES + ARGS_BYTE) / 8,
      st = (slot * SLOT_BYTES + STEPS_BYTE) / 8;
    if (call.args.length > MAX_ARGS) fail('INVALID_ARGUMENT', `${call.fn}: too many arguments`, 'raise MAX_ARGS');
    const odd = this.misbehave.get(slot + 1);
    this.misbehave.delete(slot + 1);
    this.ctl[i + FN] = odd === 'die' ? DIE : odd === 'stall' ? STALL : kernelExportNames.indexOf(call.fn);
    this.ctl[i + NARGS] = call.args.length;
    this.ctl[i + STATUS] = 0;
    this.ctl[i + COUNT] = call.count ?? 1;
    for (let j = 0; j < call.args.length; j++) {
      this.f64[a + j] = call.args[j];
      this.f64[st + j] = call.step?.[j] ?? 0;
    }
    Atomics.store(this.ctl, i + SEQ, seq);
    Atomics.notify(this.ctl, i + SEQ);
  }

  /** Waits until helper `slot` has finished task `seq`; false at the deadline. */
  private await(slot: number, seq: number, deadline: number): boolean {
    const at = slot * (SLOT_BYTES / 4) + DONE;
    for (;;) {
      const v = Atomics.load(this.ctl, at);
      if (v === seq) return true;
      const left = deadline - now();
      if (left <= 0) return false;
      // browsers' main thread cannot block: it spins (bounded by the deadline)
      if (this.block) Atomics.wait(this.ctl, at, v, left);
    }
  }
}

/** Runs `call` in this thread: its export `count` times, `step` added to the arguments after each. */
export function invoke(k: KernelExports, call: TeamCall): void {
  const f = k[call.fn] as (...args: number[]) => unknown,
    args = [...call.args];
  for (let r = call.count ?? 1; r > 0; r--) {
    f(...args);
    if (call.step) for (let j = 0; j < args.length; j++) args[j] += call.step[j];
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(why)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Starts one helper from the inline script; `ready` settles when it has instantiated the module (or failed to).
 * `onEnd` hears of a helper that exits or errs later.
 */
async function spawn(
  init: HelperInit,
  onEnd: (why: string) => void,
): Promise<{ helper: Helper; ready: Promise<void> }> {
  let settle: { ok: () => void; no: (e: Error) => void } | null = null;
  const ready = new Promise<void>((ok, no) => {
    settle = { ok, no };
  });
  const answer = (m: { ready?: boolean; error?: string }) => {
    if (m.ready) settle?.ok();
    else settle?.no(new Error(`a helper could not instantiate the kernels: ${m.error}`));
    settle = null;
  };
  const end = (why: string) => {
    if (settle) settle.no(new Error(`a helper ended before it was ready: ${why}`));
    settle = null;
    onEnd(why);
  };
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(nodeHelperSource, { eval: true });
    w.unref(); // a backend nobody destroys must not keep the process alive
    w.once('message', answer);
    w.on('error', (e) => end(`error: ${e.message}`));
    w.on('exit', (code) => end(`exit code ${code}`));
    w.postMessage(init);
    return {
      helper: {
        terminate: async () => {
          await w.terminate();
        },
      },
      ready,
    };
  }
  const url = URL.createObjectURL(new Blob([webHelperSource], { type: 'text/javascript' }));
  const w = new Worker(url);
  // the worker may fetch its script after this returns: the URL goes once it has answered
  ready.then(
    () => URL.revokeObjectURL(url),
    () => URL.revokeObjectURL(url),
  );
  w.onmessage = (e: MessageEvent) => {
    w.onmessage = null;
    answer(e.data);
  };
  // a worker the page's CSP refuses errs without a message
  w.onerror = (e) => end(`error: ${e.message ?? 'the worker could not start (a CSP without blob: in worker-src?)'}`);
  w.postMessage(init);
  return {
    helper: {
      terminate: async () => {
        w.terminate();
        end('terminated'); // a Web Worker has no exit event
      },
    },
    ready,
  };
}
