// Peer: onnxruntime-node 1.30, CPU execution provider, one inter-op thread and one (ort-node) or two (ort-node-2t)
// intra-op threads.
// ESM import path: 'onnxruntime-node' (CommonJS package; default import holds the API).
// Timed run() = one session.run() on input tensors created once in setup (conv weight: a model initializer,
// pre-packed at session creation; the CPU EP reads the
// JS typed arrays in place, so no upload in the timed part); includes the N-API call, ORT's
// output allocation and the copy-out into a new JS tensor.
import ortNode from 'onnxruntime-node';
import { ortImpl } from './ort-impl.mjs';

const ort = ortNode.default ?? ortNode;
const SESSION_OPTIONS = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

export async function ortNodeImpl(threads = 1) {
  return ortImpl(threads === 1 ? 'ort-node' : `ort-node-${threads}t`, ort, {
    ...SESSION_OPTIONS,
    intraOpNumThreads: threads,
  });
}
