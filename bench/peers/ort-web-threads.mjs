// Peer: onnxruntime-web 1.30, wasm execution provider with `numThreads` 2 (its pthread build over a worker pool).
// `ort.env.wasm.numThreads` is read once, when the runtime first initialises, so this peer lives in a child process
// of its own (ort-web-threads-child.mjs) beside the single-thread ort-web-wasm peer of this process. The child times
// its own session.run() calls (`timeCalls`): the IPC round trip to it is not part of any figure.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./ort-web-threads-child.mjs', import.meta.url));

export async function ortWebThreadsImpl(threads = 2) {
  const child = fork(CHILD, [String(threads)], {
    serialization: 'advanced', // typed arrays cross as bytes, not JSON
    execArgv: ['--experimental-wasm-relaxed-simd'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map();
  child.on('message', (m) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(m.error));
    else p?.resolve(m.value);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the ort-web child exited (code ${code})`));
    pending.clear();
  });
  const ask = (msg) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      child.send({ ...msg, id });
    });
  await ask({ kind: 'ready' });
  const runner = async (create) => {
    const session = await ask(create);
    return {
      run: () => ask({ kind: 'time', session, n: 1 }),
      /** Seconds for n back-to-back runs, measured in the child. */
      timeCalls: (n) => ask({ kind: 'time', session, n }),
      output: () => ask({ kind: 'output', session }),
      dispose: () => void ask({ kind: 'dispose', session }).catch(() => undefined),
    };
  };
  return {
    name: `ort-web-wasm-${threads}t`,
    matmul: (M, K, N, a, b) => runner({ kind: 'matmul', M, K, N, a, b }),
    conv2d: (spec, x, w) => runner({ kind: 'conv2d', spec, x, w }),
    model: (onnx, x, shape) => runner({ kind: 'model', onnx, x, shape }),
    dispose: () => {
      child.kill();
    },
  };
}
