import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { Conv2DAttrs, Conv2DGradAttrs } from '../../kernel-attrs.js';
import { convOutHW } from '../../shapes.js';
import { f32 } from './views.js';

/**
 * NCHW input, weight [O, C / groups, kh, kw]; output size = floor((H + p + pEnd − d·(k − 1) − 1) / s) + 1 (p, pEnd:
 * the padding before and after). Output channel o of group g = ⌊o / (O / groups)⌋ reads input channels g·Cg …
 * g·Cg + Cg − 1 (Cg = C / groups); tap (i, j) reads the pixel (oy·sh − ph + i·dh, ox·sw − pw + j·dw).
 */

interface Geometry {
  N: number;
  C: number;
  /** input channels per group, output channels per group */
  Cg: number;
  Og: number;
  H: number;
  W: number;
  O: number;
  kh: number;
  kw: number;
  OH: number;
  OW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
}

function geometry(xShape: readonly number[], wShape: readonly number[], a: Conv2DAttrs): Geometry {
  const [N, C, H, W] = xShape,
    [O, , kh, kw] = wShape;
  const [sh, sw] = a.stride,
    [ph, pw] = a.pad,
    [dh, dw] = a.dilation;
  const [OH, OW] = convOutHW(H, W, kh, kw, a);
  return { N, C, H, W, O, Cg: C / a.groups, Og: O / a.groups, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW };
}

/**
 * Visits every (output pixel, weight tap) pair that touches a real input pixel: c is the channel within the group
 * (the weight's second index), ci = ⌊o / Og⌋·Cg + c the input channel it reads.
 */
function forEachTap(
  g: Geometry,
  f: (
    n: number,
    o: number,
    c: number,
    ci: number,
    oy: number,
    ox: number,
    i: number,
    j: number,
    iy: number,
    ix: number,
  ) => void,
): void {
  for (let n = 0; n < g.N; n++)
    for (let o = 0; o < g.O; o++)
      for (let c = 0; c < g.Cg; c++) {
        const ci = Math.floor(o / g.Og) * g.Cg + c;
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++)
            for (let oy = 0; oy < g.OH; oy++) {
              const iy = oy * g.sh - g.ph + i * g.dh;
              if (iy < 0 || iy >= g.H) continue;
              for (let ox = 0; ox < g.OW; ox++) {
                const ix = ox * g.sw - g.pw + j * g.dw;
                if (ix >= 0 && ix < g.W) f(n, o, c, ci, oy, ox, i, j, iy, ix);
              }
            }
      }
}

/**
 * The one contraction behind the convolution and both its gradients: for every tap, the `target` array's
 * element gains the product of the other two arrays' elements (x [N,C,H,W], w [O,Cg,kh,kw], y [N,O,OH,OW]).
 */
function contract(
  g: Geometry,
  target: 'x' | 'w' | 'y',
  arrays: Partial<Record<'x' | 'w' | 'y', Float32Array>>,
  size: number,
): Float64Array {
  const acc = new Float64Array(size);
  const { x, w, y } = arrays;
  // one accumulation per target, chosen once: no per-tap allocation or lookup
  const add =
    target === 'y'
      ? (xi: number, wi: number, yi: number) => {
          acc[yi] += x![xi] * w![wi];
        }
      : target === 'x'
        ? (xi: number, wi: number, yi: number) => {
            acc[xi] += y![yi] * w![wi];
          }
        : (xi: number, wi: number, yi: number) => {
            acc[wi] += x![xi] * y![yi];
          };
  forEachTap(g, (n, o, c, ci, oy, ox, i, j, iy, ix) =>
    add(
      ((n * g.C + ci) * g.H + iy) * g.W + ix,
      ((o * g.Cg + c) * g.kh + i) * g.kw + j,
      ((n * g.O + o) * g.OH + oy) * g.OW + ox,
    ),
  );
  return acc;
}

export function conv2dRef(b: CpuBackend, [x, w]: readonly Tensor[], attrs: Conv2DAttrs): Tensor {
  const g = geometry(x.shape, w.shape, attrs);
  const out = makeTensor(b, [g.N, g.O, g.OH, g.OW]);
  f32(b, out).set(contract(g, 'y', { x: f32(b, x), w: f32(b, w) }, out.size));
  return out;
}

/** dx from dy [N,O,OH,OW] and w. */
export function conv2dBackpropInputRef(b: CpuBackend, [dy, w]: readonly Tensor[], attrs: Conv2DGradAttrs): Tensor {
  const g = geometry(attrs.shape, w.shape, attrs);
  const out = makeTensor(b, attrs.shape);
  f32(b, out).set(contract(g, 'x', { y: f32(b, dy), w: f32(b, w) }, out.size));
  return out;
}

/** dw from x and dy. */
export function conv2dBackpropFilterRef(b: CpuBackend, [x, dy]: readonly Tensor[], attrs: Conv2DGradAttrs): Tensor {
  const g = geometry(x.shape, attrs.shape, attrs);
  const out = makeTensor(b, attrs.shape);
  f32(b, out).set(contract(g, 'w', { x: f32(b, x), y: f32(b, dy) }, out.size));
  return out;
}
