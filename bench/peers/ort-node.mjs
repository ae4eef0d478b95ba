// Peer: onnxruntime-node 1.30, CPU execution provider, one intra-op and one inter-op thread.
// ESM import path: 'onnxruntime-node' (CommonJS package; default import holds the API).
// Timed run() = one session.run() on input tensors created once in setup (conv weight: a model initializer,
// pre-packed at session creation; the CPU EP reads the
// JS typed arrays in place, so no upload in the timed part); includes the N-API call, ORT's
// output allocation and the copy-out into a new JS tensor.
import ortNode from 'onnxruntime-node';
import { matmulModel, conv2dModel } from '../onnx-models.mjs';

const ort = ortNode.default ?? ortNode;
const SESSION_OPTIONS = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
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

export async function ortNodeImpl() {
  return {
    name: 'ort-node',
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
