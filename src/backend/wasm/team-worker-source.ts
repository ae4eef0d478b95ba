/**
 * The protocol between a wasm backend and its helper threads (team.ts), and the helpers' script as text, so that
 * no bundle entry or file URL is needed: Node runs it with `new Worker(code, { eval: true })`, browsers from a Blob
 * URL.
 *
 * The control block is a SharedArrayBuffer with one slot of SLOT_BYTES per helper: Int32 words SEQ (the caller
 * bumps it to post a task), DONE (the helper writes the task's SEQ there when finished), FN (the index of the
 * export to call in `kernelExportNames`, or a negative command), NARGS, STATUS (0 ok, 1 the call threw) and COUNT,
 * then the arguments as Float64 from byte ARGS_BYTE and their steps from STEPS_BYTE: the helper calls the export
 * COUNT times, adding the steps to the arguments after each call (one image after another, say). A helper blocks
 * in `Atomics.wait` on its SEQ between tasks.
 */
export const SLOT_BYTES = 512;
export const SEQ = 0;
export const DONE = 1;
export const FN = 2;
export const NARGS = 3;
export const STATUS = 4;
export const COUNT = 5;
export const ARGS_BYTE = 64;
export const MAX_ARGS = 28;
export const STEPS_BYTE = ARGS_BYTE + 8 * MAX_ARGS;
/** Commands in FN: leave the loop; exit without answering (a test's dying helper); never answer (a stalled one). */
export const STOP = -1;
export const DIE = -2;
export const STALL = -3;

/** What the helper receives once, in its first message. */
export interface HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  slot: number;
  names: readonly string[];
}

/** The helper's body, shared by both runtimes: `post(msg)`, `onFirst(fn)` (the first message) and `exit()` differ. */
const body = `
const W = ${SLOT_BYTES / 4}, SEQ = ${SEQ}, DONE = ${DONE}, FN = ${FN}, NARGS = ${NARGS}, STATUS = ${STATUS};
const COUNT = ${COUNT};
const STOP = ${STOP}, DIE = ${DIE}, STALL = ${STALL};
onFirst((m) => {
  let fns;
  try {
    const env = { memory: m.memory, abort() { throw new Error('wasm kernel abort'); } };
    const inst = new WebAssembly.Instance(m.module, { env });
    fns = m.names.map((n) => inst.exports[n]);
  } catch (e) {
    post({ error: String((e && e.message) || e) });
    return;
  }
  const ctl = new Int32Array(m.control), f64 = new Float64Array(m.control);
  const base = m.slot * W, argBase = (m.slot * ${SLOT_BYTES} + ${ARGS_BYTE}) / 8;
  const stepBase = (m.slot * ${SLOT_BYTES} + ${STEPS_BYTE}) / 8;
  post({ ready: true });
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, base + SEQ, seen);
    const seq = Atomics.load(ctl, base + SEQ);
    if (seq === seen) continue;
    seen = seq;
    const fn = ctl[base + FN];
    if (fn === STOP) return;
    if (fn === DIE) return exit();
    if (fn === STALL) {
      Atomics.wait(ctl, base + SEQ, seq);
      continue;
    }
    let status = 0;
    try {
      const n = ctl[base + NARGS], f = fns[fn], args = [], steps = [];
      for (let i = 0; i < n; i++) {
        args.push(f64[argBase + i]);
        steps.push(f64[stepBase + i]);
      }
      for (let r = ctl[base + COUNT]; r > 0; r--) {
        f(...args);
        for (let i = 0; i < n; i++) args[i] += steps[i];
      }
    } catch {
      status = 1;
    }
    ctl[base + STATUS] = status;
    Atomics.store(ctl, base + DONE, seq);
    Atomics.notify(ctl, base + DONE);
  }
});
`;

/** The helper script for worker_threads (CommonJS, as `eval: true` runs it). */
export const nodeHelperSource = `'use strict';
const { parentPort } = require('node:worker_threads');
const post = (m) => parentPort.postMessage(m);
const onFirst = (f) => parentPort.once('message', f);
const exit = () => process.exit(1);
${body}`;

/** The helper script for a classic Web Worker (from a Blob URL). */
export const webHelperSource = `'use strict';
const post = (m) => self.postMessage(m);
const onFirst = (f) => { self.onmessage = (e) => { self.onmessage = null; f(e.data); }; };
const exit = () => { self.close(); throw new Error('helper exits'); };
${body}`;
