// Peer: onnxruntime-web 1.30, wasm execution provider, single thread, SIMD build.
// ESM import path: 'onnxruntime-web' — under Node its "exports" map resolves to dist/ort.node.min.mjs,
// which loads dist/ort-wasm-simd-threaded.{mjs,wasm} from the package itself.
// Timed run() = one session.run() on input tensors created once in setup (conv weight: a model initializer,
// pre-packed at session creation). The wasm EP copies
// every input from the JS heap into wasm memory and the output back out on each run, so the
// timing includes those copies (about (M·K + K·N + M·N)·4 bytes for matmul) — inherent to this peer.
import * as ortWeb from 'onnxruntime-web';
import { ortImpl } from './ort-impl.mjs';

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

export async function ortWebImpl() {
  configure();
  return ortImpl('ort-web-wasm', ort, SESSION_OPTIONS);
}
