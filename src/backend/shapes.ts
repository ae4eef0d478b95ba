import { stridesOf } from '../core/shape.js';

/**
 * Shape arithmetic the kernel contract shares: ops and layers use it to check and to compute output shapes, every
 * backend to lay out its outputs. Nothing here belongs to one backend.
 */

/** Output size of a convolution or pooling window along one axis: floor((size + 2p − k) / s) + 1. */
export function convOutSize(size: number, k: number, s: number, p: number): number {
  return Math.floor((size + 2 * p - k) / s) + 1;
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
