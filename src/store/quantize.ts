/**
 * Block-wise 8-bit storage of float tensors. Values are cut into blocks of `block` (default 2048); each block
 * keeps one f32 scale, its absolute maximum / 127, and one byte per value:
 *   'q8'      signed: round(v / scale) in [−127, 127] (weights, Adam's first moment, SGD momentum);
 *   'q8sqrt'  unsigned, for non-negative values with a wide range (Adam's second moment v): the byte holds
 *             round(√v / s) with s = max √v / 255, so small v keep relative precision that a linear code on v
 *             would round to 0.
 * Layout: nBlocks little-endian f32 scales, then n bytes.
 */
export type Quantized = 'q8' | 'q8sqrt';
export const DEFAULT_BLOCK = 2048;

export function quantizedBytes(n: number, block = DEFAULT_BLOCK): number {
  return 4 * Math.ceil(n / block) + n;
}

export function quantize(v: Float32Array, kind: Quantized, block = DEFAULT_BLOCK): Uint8Array {
  const blocks = Math.ceil(v.length / block);
  const out = new Uint8Array(4 * blocks + v.length);
  const scales = new DataView(out.buffer);
  const codes = out.subarray(4 * blocks);
  for (let b = 0; b < blocks; b++) {
    const from = b * block,
      to = Math.min(v.length, from + block);
    let max = 0;
    for (let i = from; i < to; i++) max = Math.max(max, kind === 'q8' ? Math.abs(v[i]) : Math.sqrt(Math.max(0, v[i])));
    const scale = max / (kind === 'q8' ? 127 : 255);
    scales.setFloat32(4 * b, scale, true);
    const inv = scale > 0 ? 1 / scale : 0;
    if (kind === 'q8')
      for (let i = from; i < to; i++) codes[i] = Math.round(v[i] * inv) & 0xff; // two's complement byte
    else for (let i = from; i < to; i++) codes[i] = Math.round(Math.sqrt(Math.max(0, v[i])) * inv);
  }
  return out;
}

export function dequantize(bytes: Uint8Array, n: number, kind: Quantized, block = DEFAULT_BLOCK): Float32Array {
  const blocks = Math.ceil(n / block);
  const scales = new DataView(bytes.buffer, bytes.byteOffset, 4 * blocks);
  const out = new Float32Array(n);
  const signed = new Int8Array(bytes.buffer, bytes.byteOffset + 4 * blocks, n);
  const unsigned = bytes.subarray(4 * blocks, 4 * blocks + n);
  for (let b = 0; b < blocks; b++) {
    const scale = scales.getFloat32(4 * b, true);
    const from = b * block,
      to = Math.min(n, from + block);
    if (kind === 'q8') for (let i = from; i < to; i++) out[i] = signed[i] * scale;
    else
      for (let i = from; i < to; i++) {
        const r = unsigned[i] * scale;
        out[i] = r * r;
      }
  }
  return out;
}
