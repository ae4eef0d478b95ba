import type { Tensor } from '../../../core/tensor.js';
import type { OptimizerStep8bitAttrs } from '../../kernel-attrs.js';
import type { WasmBackend } from '../wasm-backend.js';
import { adamScalars } from './optimizer.js';

/** The fused 8-bit optimiser updates in SIMD, in place on the parameter and its packed state (see the js reference). */
export function optimizerStep8bitWasm(b: WasmBackend, inputs: readonly Tensor[], a: OptimizerStep8bitAttrs): Tensor[] {
  const ptr = (k: number) => b.ptr(inputs[k].storage);
  const n = inputs[0].size;
  // the new state of one block, in f32, while its absmax is found (Adam: m then v)
  const scratch = b.alloc(2 * a.blockSize, 'float32');
  try {
    step(b, a, ptr, n, b.ptr(scratch));
  } finally {
    b.free(scratch);
  }
  return [];
}

function step(b: WasmBackend, a: OptimizerStep8bitAttrs, ptr: (k: number) => number, n: number, scratch: number): void {
  if (a.kind === 'sgd') {
    b.k.sgd8bitStep(ptr(0), ptr(1), ptr(2), ptr(3), ptr(4), scratch, n, a.blockSize, a.lr, a.momentum, a.weightDecay);
    return;
  }
  // p, g, then each state's table, codes and block maxima (as the js reference reads them)
  const [p, g, table1, codes1, max1, table2, codes2, max2] = [0, 1, 2, 3, 4, 5, 6, 7].map(ptr);
  b.k.adam8bitStep(p, g, table1, codes1, max1, table2, codes2, max2, scratch, n, a.blockSize, ...adamScalars(a));
}
