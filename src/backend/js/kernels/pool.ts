import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { f32 } from './views.js';
import type { PoolAttrs, PoolGradAttrs } from '../../kernel-attrs.js';
import { poolCounted, poolOutHW } from '../../shapes.js';

/** NCHW pooling. Average pooling divides by the window's pixels in the image, or in the padded input (PoolAttrs). */

/**
 * The window of every output pixel, clipped to the image: for output column ox, input columns
 * [x0[ox], x1[ox]); likewise rows. Computed once per call so the loops below are plain array walks
 * (a callback per window made pooling the slowest part of a CNN step).
 */
function windows(x: readonly number[], a: PoolAttrs) {
  const [N, C, H, W] = x;
  const [OH, OW] = poolOutHW(H, W, a);
  const span = (n: number, size: number, k: number, s: number, p: number) => {
    const lo = new Int32Array(n),
      hi = new Int32Array(n);
    for (let o = 0; o < n; o++) {
      const start = o * s - p;
      lo[o] = Math.max(0, start);
      hi[o] = Math.min(size, start + k);
    }
    return [lo, hi] as const;
  };
  const [y0, y1] = span(OH, H, a.kernel[0], a.stride[0], a.pad[0]);
  const [x0, x1] = span(OW, W, a.kernel[1], a.stride[1], a.pad[1]);
  // an average's divisor per output row and column: the window's pixels in the counted region (poolCounted)
  const [cy0, cy1, cx0, cx1] = poolCounted(H, W, a);
  const count = (n: number, k: number, s: number, p: number, lo: number, hi: number) =>
    Int32Array.from({ length: n }, (_, o) => Math.min(o * s - p + k, hi) - Math.max(o * s - p, lo));
  const ny = count(OH, a.kernel[0], a.stride[0], a.pad[0], cy0, cy1),
    nx = count(OW, a.kernel[1], a.stride[1], a.pad[1], cx0, cx1);
  return { planes: N * C, H, W, OH, OW, y0, y1, x0, x1, ny, nx, shape: [N, C, OH, OW] };
}

/** Index of the first maximum in each window (−1 for an empty one). */
function argmaxes(X: Float32Array, g: ReturnType<typeof windows>): Int32Array {
  const at = new Int32Array(g.planes * g.OH * g.OW);
  let o = 0;
  for (let p = 0; p < g.planes; p++) {
    const base = p * g.H * g.W;
    for (let oy = 0; oy < g.OH; oy++)
      for (let ox = 0; ox < g.OW; ox++, o++) {
        let m = -Infinity,
          best = -1;
        for (let iy = g.y0[oy]; iy < g.y1[oy]; iy++) {
          const row = base + iy * g.W;
          for (let ix = g.x0[ox]; ix < g.x1[ox]; ix++)
            if (X[row + ix] > m || best < 0) {
              m = X[row + ix];
              best = row + ix;
            }
        }
        at[o] = best;
      }
  }
  return at;
}

export function maxPoolRef(b: CpuBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = windows(x.shape, a);
  const out = makeTensor(b, g.shape);
  const X = f32(b, x),
    Y = f32(b, out),
    at = argmaxes(X, g);
  for (let o = 0; o < at.length; o++) Y[o] = at[o] >= 0 ? X[at[o]] : -Infinity;
  return out;
}

/** The gradient goes to the first maximum of each window (ties are rare and this keeps it deterministic). */
export function maxPoolGradRef(b: CpuBackend, [dy, x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = windows(x.shape, a);
  const out = makeTensor(b, x.shape);
  const X = f32(b, x),
    DY = f32(b, dy),
    DX = f32(b, out),
    at = argmaxes(X, g);
  DX.fill(0);
  for (let o = 0; o < at.length; o++) if (at[o] >= 0) DX[at[o]] += DY[o];
  return out;
}

export function avgPoolRef(b: CpuBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = windows(x.shape, a);
  const out = makeTensor(b, g.shape);
  const X = f32(b, x),
    Y = f32(b, out);
  let o = 0;
  for (let p = 0; p < g.planes; p++) {
    const base = p * g.H * g.W;
    for (let oy = 0; oy < g.OH; oy++)
      for (let ox = 0; ox < g.OW; ox++, o++) {
        let s = 0;
        for (let iy = g.y0[oy]; iy < g.y1[oy]; iy++)
          for (let ix = g.x0[ox]; ix < g.x1[ox]; ix++) s += X[base + iy * g.W + ix];
        Y[o] = s / Math.max(1, g.ny[oy] * g.nx[ox]);
      }
  }
  return out;
}

export function avgPoolGradRef(b: CpuBackend, [dy]: readonly Tensor[], a: PoolGradAttrs): Tensor {
  const g = windows(a.shape, a);
  const out = makeTensor(b, a.shape);
  const DY = f32(b, dy),
    DX = f32(b, out);
  DX.fill(0);
  let o = 0;
  for (let p = 0; p < g.planes; p++) {
    const base = p * g.H * g.W;
    for (let oy = 0; oy < g.OH; oy++)
      for (let ox = 0; ox < g.OW; ox++, o++) {
        const share = DY[o] / Math.max(1, g.ny[oy] * g.nx[ox]);
        for (let iy = g.y0[oy]; iy < g.y1[oy]; iy++)
          for (let ix = g.x0[ox]; ix < g.x1[ox]; ix++) DX[base + iy * g.W + ix] += share;
      }
  }
  return out;
}
