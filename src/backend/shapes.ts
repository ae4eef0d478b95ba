import { stridesOf } from '../core/shape.js';
import type { Conv2DAttrs, PoolAttrs } from './kernel-attrs.js';

/**
 * Shape arithmetic the kernel contract shares: ops and layers use it to check and to compute output shapes, every
 * backend to lay out its outputs. Nothing here belongs to one backend.
 */

/**
 * Output size of a convolution or pooling window along one axis: floor((size + p + pEnd − d·(k − 1) − 1) / s) + 1,
 * with the dilation d (1: taps side by side) spreading the k taps over d·(k − 1) + 1 pixels, p pixels of padding
 * before and pEnd after (default p).
 */
export function convOutSize(size: number, k: number, s: number, p: number, d = 1, pEnd = p): number {
  return Math.floor((size + p + pEnd - d * (k - 1) - 1) / s) + 1;
}

/** [OH, OW] of a pooling window over an H×W input (pads before and after may differ). */
export function poolOutHW(H: number, W: number, a: PoolAttrs): [number, number] {
  return [
    convOutSize(H, a.kernel[0], a.stride[0], a.pad[0], 1, a.padEnd[0]),
    convOutSize(W, a.kernel[1], a.stride[1], a.pad[1], 1, a.padEnd[1]),
  ];
}

/**
 * The rows [y0, y1) and columns [x0, x1) an average's divisor counts: the image, or with `countPad` the padded input.
 */
export function poolCounted(H: number, W: number, a: PoolAttrs): [number, number, number, number] {
  return a.countPad ? [-a.pad[0], H + a.padEnd[0], -a.pad[1], W + a.padEnd[1]] : [0, H, 0, W];
}

/** [OH, OW] of a convolution of an H×W input by a kh×kw kernel (pads before and after may differ). */
export function convOutHW(H: number, W: number, kh: number, kw: number, a: Conv2DAttrs): [number, number] {
  return [
    convOutSize(H, kh, a.stride[0], a.pad[0], a.dilation[0], a.padEnd[0]),
    convOutSize(W, kw, a.stride[1], a.pad[1], a.dilation[1], a.padEnd[1]),
  ];
}

/** The shape after reducing `axes` (sorted, unique): 1 there with `keepDims`, else those dimensions dropped. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Strides of `shape` aligned to `out`, zero where the dimension is broadcast. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const s = stridesOf(shape);
  return out.map((_, i) => {
    const j = i - (out.length - shape.length);
    return j < 0 || shape[j] === 1 ? 0 : s[j];
  });
}
