// layerhive's own impls for the kernel suite, from the built library (dist/). `js` is the oracle.
// The timed run() is one kernel call on tensors already resident on the backend (for wasm: in its heap),
// freeing the previous output; output() copies the last result out.
import * as lh from '../../dist/index.js';
import { useNodeWebGpu } from '../../dist/node.js';

/** Thread counts of the threaded wasm rows (`wasm-relaxed-<n>t`); one thread is the `wasm-relaxed` row. */
export const THREADS = [2];

function impl(name, backend, extra = {}) {
  // WebGPU: run() waits for the queue to finish, so the time is the GPU's, not the recording's
  const settle = backend.asyncOnly ? () => backend.sync() : null;
  const runner = (compute, inputs, release = () => {}) => {
    let out = null;
    return {
      run() {
        out?.dispose();
        out = compute();
        return settle?.();
      },
      async output() {
        return Float32Array.from(await out.data());
      },
      dispose() {
        out?.dispose();
        lh.dispose(inputs);
        release();
      },
    };
  };
  return {
    name,
    ...extra,
    async matmul(M, K, N, a, b) {
      const ta = lh.tensor(a, [M, K], 'float32', backend),
        tb = lh.tensor(b, [K, N], 'float32', backend);
      return runner(() => lh.matmul(ta, tb), [ta, tb]);
    },
    async model(onnx, x, shape) {
      const { model } = await lh.loadOnnx(onnx, backend);
      const tx = lh.tensor(x, shape, 'float32', backend);
      return runner(
        () => model.predict(tx),
        [tx],
        () => model.dispose(),
      );
    },
    async conv2d({ N, Cin, H, W, Cout, k, stride, pad }, x, w) {
      const tx = lh.tensor(x, [N, Cin, H, W], 'float32', backend),
        tw = lh.tensor(w, [Cout, Cin, k, k], 'float32', backend);
      return runner(() => lh.conv2d(tx, tw, { stride, pad }), [tx, tw]);
    },
  };
}

export async function layerhiveImpls() {
  const impls = [
    impl('js', await lh.createBackend('js')),
    impl('wasm-simd', await lh.createBackend('wasm', { simd: 'plain', threads: 1 })),
  ];
  try {
    impls.push(impl('wasm-relaxed', await lh.createBackend('wasm', { simd: 'relaxed', threads: 1 })));
  } catch (e) {
    impls.push({ name: 'wasm-relaxed', unavailable: e instanceof Error ? e.message : String(e) });
  }
  // intra-op threads: the relaxed build over a shared memory, the caller and one helper thread per kernel call
  for (const threads of THREADS) {
    const name = `wasm-relaxed-${threads}t`;
    try {
      const b = await lh.createBackend('wasm', { simd: 'relaxed', threads });
      const caps = b.capabilities();
      if (caps.threadsInUse !== threads) {
        b.destroy();
        throw new Error(`${caps.threadsInUse} thread(s) in use: ${caps.threadsNote}`);
      }
      impls.push(impl(name, b, { dispose: () => b.destroy() }));
    } catch (e) {
      impls.push({ name, unavailable: e instanceof Error ? e.message : String(e) });
    }
  }
  try {
    if (!(await useNodeWebGpu())) throw new Error('the webgpu package is not installed');
    const gpu = await lh.createBackend('webgpu');
    const caps = gpu.capabilities();
    impls.push(
      impl('webgpu', gpu, {
        note:
          `webgpu: ${caps.adapter} (matmul kernel: ${gpu.matMulVariant})` +
          `${caps.fallbackAdapter ? ' — a SOFTWARE adapter: these figures say nothing about GPU speed' : ''}`,
        dispose: () => gpu.destroy(),
      }),
    );
  } catch (e) {
    impls.push({ name: 'webgpu', unavailable: e instanceof Error ? e.message : String(e) });
  }
  return impls;
}
