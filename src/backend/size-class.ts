/**
 * The block size a request rounds up to: four classes per power of two (at most 25% slack), multiples of
 * `align`. The wasm heap and the WebGPU buffer pool reuse freed blocks by class.
 */
export function sizeClass(bytes: number, align: number): number {
  const b = Math.max(align, Math.ceil(bytes / align) * align);
  const p = 2 ** Math.floor(Math.log2(b));
  const step = Math.max(align, p / 4);
  return Math.ceil(b / step) * step;
}
