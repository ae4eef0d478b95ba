import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { f32 } from './views.js';
import { convOutSize } from './conv2d.js';

/** NCHW pooling. Average pooling divides by the number of real (unpadded) pixels in the window. */
export interface PoolAttrs { kernel: [number, number]; stride: [number, number]; pad: [number, number] }

function pooled(x: readonly number[], a: PoolAttrs) {
  const [N, C, H, W] = x;
  const OH = convOutSize(H, a.kernel[0], a.stride[0], a.pad[0]);
  const OW = convOutSize(W, a.kernel[1], a.stride[1], a.pad[1]);
  const each = (f: (plane: number, oy: number, ox: number, o: number, y0: number, y1: number, x0: number, x1: number) => void) => {
    let o = 0;
    for (let p = 0; p < N * C; p++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++, o++) {
      const y0 = oy * a.stride[0] - a.pad[0], x0 = ox * a.stride[1] - a.pad[1];
      f(p, oy, ox, o, Math.max(0, y0), Math.min(H, y0 + a.kernel[0]), Math.max(0, x0), Math.min(W, x0 + a.kernel[1]));
    }
  };
  return { shape: [N, C, OH, OW], H, W, each };
}

export function maxPoolRef(b: CpuBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = pooled(x.shape, a);
  const out = makeTensor(b, g.shape);
  const X = f32(b, x), Y = f32(b, out);
  g.each((p, _oy, _ox, o, y0, y1, x0, x1) => {
    let m = -Infinity;
    for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) m = Math.max(m, X[(p * g.H + iy) * g.W + ix]);
    Y[o] = m;
  });
  return out;
}

/** The gradient goes to the first maximum of each window (ties are rare and this keeps it deterministic). */
export function maxPoolGradRef(b: CpuBackend, [dy, x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = pooled(x.shape, a);
  const out = makeTensor(b, x.shape);
  const X = f32(b, x), DY = f32(b, dy), DX = f32(b, out);
  DX.fill(0);
  g.each((p, _oy, _ox, o, y0, y1, x0, x1) => {
    let m = -Infinity, at = -1;
    for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) {
      const idx = (p * g.H + iy) * g.W + ix;
      if (X[idx] > m) { m = X[idx]; at = idx; }
    }
    if (at >= 0) DX[at] += DY[o];
  });
  return out;
}

export function avgPoolRef(b: CpuBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = pooled(x.shape, a);
  const out = makeTensor(b, g.shape);
  const X = f32(b, x), Y = f32(b, out);
  g.each((p, _oy, _ox, o, y0, y1, x0, x1) => {
    let s = 0;
    for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += X[(p * g.H + iy) * g.W + ix];
    Y[o] = s / Math.max(1, (y1 - y0) * (x1 - x0));
  });
  return out;
}

export function avgPoolGradRef(b: CpuBackend, [dy]: readonly Tensor[], a: PoolAttrs & { shape: readonly number[] }): Tensor {
  const g = pooled(a.shape, a);
  const out = makeTensor(b, a.shape);
  const DY = f32(b, dy), DX = f32(b, out);
  DX.fill(0);
  g.each((p, _oy, _ox, o, y0, y1, x0, x1) => {
    const share = DY[o] / Math.max(1, (y1 - y0) * (x1 - x0));
    for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) DX[(p * g.H + iy) * g.W + ix] += share;
  });
  return out;
}
