// Peer: @tensorflow/tfjs-core + @tensorflow/tfjs-backend-wasm 4.22 in Node, single thread (SIMD build;
// the threaded build does not run in Node). ESM import paths: '@tensorflow/tfjs-core' and
// '@tensorflow/tfjs-backend-wasm' (both CommonJS "main" entries, *.node.js); the .wasm files are
// found through setWasmPaths(<absolute file path of node_modules/@tensorflow/tfjs-backend-wasm/dist/>).
// Timed run() = tf.matMul / tf.conv2d (NHWC input, HWIO filter, both transposed and uploaded to the
// backend once in setup) + dataSync() of the result (a copy out of wasm memory, which also proves the
// kernel finished) + dispose of the result. output() transposes NHWC back to NCHW, outside the timing.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tfAll from '@tensorflow/tfjs-core';
import * as wasmAll from '@tensorflow/tfjs-backend-wasm';

const tf = tfAll.default?.matMul ? tfAll.default : tfAll;
const tfWasm = wasmAll.default?.setWasmPaths ? wasmAll.default : wasmAll;

const require = createRequire(import.meta.url);

let ready = null;
async function init() {
  if (!ready) {
    ready = (async () => {
      const main = require.resolve('@tensorflow/tfjs-backend-wasm'); // .../dist/tf-backend-wasm.node.js
      const distDir = path.dirname(main) + path.sep;
      tfWasm.setThreadsCount?.(1);
      tfWasm.setWasmPaths(distDir);
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new Error('tf.setBackend("wasm") failed');
      await tf.ready();
      if (tf.getBackend() !== 'wasm') throw new Error(`tfjs backend is ${tf.getBackend()}, not wasm`);
    })();
  }
  return ready;
}

export async function tfjsWasmImpl() {
  await init();
  return {
    name: 'tfjs-wasm',
    async matmul(M, K, N, a, b) {
      const ta = tf.tensor2d(a, [M, K]);
      const tb = tf.tensor2d(b, [K, N]);
      let last = null;
      return {
        run() {
          const y = tf.matMul(ta, tb);
          last = y.dataSync();
          y.dispose();
        },
        output() {
          if (!last) this.run();
          return Float32Array.from(last);
        },
        dispose() {
          ta.dispose();
          tb.dispose();
          last = null;
        },
      };
    },
    async conv2d(spec, x, w) {
      const { N, Cin, H, W, Cout, k, stride, pad } = spec;
      const tx = tf.tidy(() => tf.transpose(tf.tensor4d(x, [N, Cin, H, W]), [0, 2, 3, 1])); // NHWC
      const tw = tf.tidy(() => tf.transpose(tf.tensor4d(w, [Cout, Cin, k, k]), [2, 3, 1, 0])); // HWIO
      // Materialize the transposes in setup so run() times only the convolution.
      tx.dataSync();
      tw.dataSync();
      const pads = [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0],
      ];
      const Hout = Math.floor((H + 2 * pad - k) / stride) + 1;
      const Wout = Math.floor((W + 2 * pad - k) / stride) + 1;
      let last = null;
      return {
        run() {
          const y = tf.conv2d(tx, tw, [stride, stride], pad === 0 ? 'valid' : pads, 'NHWC');
          last = y.dataSync();
          y.dispose();
        },
        output() {
          if (!last) this.run();
          // NHWC -> NCHW, untimed.
          const out = new Float32Array(N * Cout * Hout * Wout);
          const plane = Hout * Wout;
          for (let n = 0; n < N; n++)
            for (let p = 0; p < plane; p++)
              for (let c = 0; c < Cout; c++) out[(n * Cout + c) * plane + p] = last[(n * plane + p) * Cout + c];
          return out;
        },
        dispose() {
          tx.dispose();
          tw.dispose();
          last = null;
        },
      };
    },
  };
}
