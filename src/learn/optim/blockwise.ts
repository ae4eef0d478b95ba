import { quantizeValue } from '../../backend/js/kernels/optimizer8bit.js';

/** The block of the paper (and of the checkpoint's q8 code): one absmax per 2 048 values. */
export const BLOCK = 2048;

/**
 * Block-wise dynamic quantisation of `x` with a code table (codeTable(dynamicMap(…))): per block, absmax = max |x|,
 * code = the nearest map value to x/absmax. The same quantiser the 8-bit kernels apply after their update.
 */
export function quantizeBlockwise(
  x: Float32Array,
  table: Float32Array,
  block = BLOCK,
): { codes: Uint8Array; absmax: Float32Array } {
  const codes = new Uint8Array(x.length),
    absmax = new Float32Array(Math.ceil(x.length / block));
  for (let b = 0; b < absmax.length; b++) {
    const from = b * block,
      to = Math.min(x.length, from + block);
    let amax = 0;
    for (let i = from; i < to; i++) amax = Math.max(amax, Math.abs(x[i]));
    absmax[b] = amax;
    for (let i = from; i < to; i++) codes[i] = quantizeValue(table, x[i], amax);
  }
  return { codes, absmax };
}

/** map[code]·absmax of each value's block, rounded to f32 as the kernels compute it. */
export function dequantizeBlockwise(
  codes: Uint8Array,
  absmax: Float32Array,
  table: Float32Array,
  block = BLOCK,
): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]] * absmax[Math.floor(i / block)];
  return out;
}
