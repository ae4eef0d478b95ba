// Peer: onnxruntime-web 1.30, wasm execution provider, single thread, SIMD build.
// ESM import path: 'onnxruntime-web' — under Node its "exports" map resolves to dist/ort.node.min.mjs,
// which loads dist/ort-wasm-simd-threaded.{mjs,wasm} from the package itself.
// Timed run() = one session.run() on input tensors created once in setup (conv weight: a model initializer,
// pre-packed at session creation). The wasm EP copies
// every input from the JS heap into wasm memory and the output back out on each run, so the
// timing includes those copies (about (M·K + K·N + M·N)·4 bytes for matmul) — inherent to this peer.
import * as ortWeb from 'onnxruntime-web';
import { matmulModel, conv2dModel } from '../onnx-models.mjs';

const ort = ortWeb.default ?? ortWeb;

let configured = false;
function configure() {
  if (configured) return;
  ort.env.wasm.numThreads = 1; // single thread (no worker pool)
  ort.env.wasm.simd = true; // ignored by 1.30 (always the SIMD build), kept for older versions
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  configured = true;
}

const SESSION_OPTIONS = {
  executionProviders: ['wasm'],
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

async function makeRunner(model, feeds) {
  const session = await ort.InferenceSession.create(model, SESSION_OPTIONS);
  let last = null;
  return {
    async run() {
      last = await session.run(feeds);
    },
    async output() {
      if (!last) last = await session.run(feeds);
      return new Float32Array(last.Y.data);
    },
    dispose() {
      last = null;
      session.release?.();
    },
  };
}

export async function ortWebImpl() {
  configure();
  return {
    name: 'ort-web-wasm',
    async matmul(M, K, N, a, b) {
      return makeRunner(matmulModel(M, K, N), {
        A: new ort.Tensor('float32', a, [M, K]),
        B: new ort.Tensor('float32', b, [K, N]),
      });
    },
    async conv2d(spec, x, w) {
      // The weight is an initializer (pre-packed by ORT at session creation, as in a real model).
      const { N, Cin, H, W } = spec;
      return makeRunner(conv2dModel(spec, w), { X: new ort.Tensor('float32', x, [N, Cin, H, W]) });
    },
  };
}
