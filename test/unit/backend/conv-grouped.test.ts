/**
 * Grouped, depthwise and dilated convolution, with pads that may differ before and after, on the js reference, the
 * oracle the other backends are held to (kernel-cases.ts): its forward against a float64 restatement of ONNX Conv's
 * definition, and both gradients against central differences of that restatement (the convolution is linear in x
 * and in w, so the differences are exact up to float64 rounding, at every coordinate).
 */
import { describe, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { Rng } from '../../../src/index.js';
import { expectClose, js, randomArray } from '../helpers.js';

interface Conv {
  x: number[];
  w: number[];
  stride: [number, number];
  /** top, left, bottom, right */
  pad: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

const convs: Conv[] = [
  { x: [2, 4, 6, 7], w: [6, 2, 3, 2], stride: [1, 2], pad: [1, 0, 1, 0], dilation: [1, 1], groups: 2 },
  { x: [1, 6, 7, 6], w: [6, 2, 2, 3], stride: [2, 1], pad: [1, 1, 1, 1], dilation: [2, 1], groups: 3 },
  { x: [2, 3, 7, 8], w: [6, 1, 3, 3], stride: [1, 1], pad: [2, 1, 2, 1], dilation: [2, 2], groups: 3 },
  { x: [1, 2, 8, 8], w: [3, 2, 3, 3], stride: [2, 2], pad: [2, 2, 2, 2], dilation: [3, 2], groups: 1 },
  { x: [2, 2, 7, 6], w: [4, 2, 3, 2], stride: [2, 1], pad: [0, 2, 1, 0], dilation: [1, 1], groups: 1 },
  { x: [1, 4, 6, 8], w: [8, 1, 2, 3], stride: [1, 2], pad: [1, 0, 2, 1], dilation: [2, 1], groups: 4 },
];

/**
 * y[n, o, oy, ox] = Σ over c < C/groups, i, j of x[n, g·C/groups + c, oy·s − p + i·d, …] · w[o, c, i, j], with
 * g = ⌊o / (O/groups)⌋ (the taps in the padding count 0).
 */
function conv64(c: Conv, x: ArrayLike<number>, w: ArrayLike<number>): { y: Float64Array; shape: number[] } {
  const [N, C, H, W] = c.x,
    [O, Cg, kh, kw] = c.w;
  const Og = O / c.groups;
  const OH = Math.floor((H + c.pad[0] + c.pad[2] - c.dilation[0] * (kh - 1) - 1) / c.stride[0]) + 1,
    OW = Math.floor((W + c.pad[1] + c.pad[3] - c.dilation[1] * (kw - 1) - 1) / c.stride[1]) + 1;
  const y = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let s = 0;
          for (let ch = 0; ch < Cg; ch++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = oy * c.stride[0] - c.pad[0] + i * c.dilation[0],
                  ix = ox * c.stride[1] - c.pad[1] + j * c.dilation[1];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const ci = Math.floor(o / Og) * Cg + ch;
                s += x[((n * C + ci) * H + iy) * W + ix] * w[((o * Cg + ch) * kh + i) * kw + j];
              }
          y[((n * O + o) * OH + oy) * OW + ox] = s;
        }
  return { y, shape: [N, O, OH, OW] };
}

const name = (c: Conv) => `x ${c.x} w ${c.w} s${c.stride} p${c.pad} d${c.dilation} g${c.groups}`;
const data = (c: Conv, seed: number) => {
  const rng = new Rng(seed);
  const x = randomArray(
      rng,
      c.x.reduce((p, d) => p * d),
    ),
    w = randomArray(
      rng,
      c.w.reduce((p, d) => p * d),
    );
  const { y, shape } = conv64(c, x, w);
  return { x, w, r: randomArray(rng, y.length), shape };
};
const opts = (c: Conv) => ({ stride: c.stride, pad: c.pad, dilation: c.dilation, groups: c.groups });

describe('js conv2d equals a float64 restatement of ONNX Conv (group, dilations, pads)', {
  tags: ['hand-computed'],
}, () => {
  it.each(convs.map((c, i) => [name(c), c, i] as const))('%s', (_n, c, i) => {
    const { x, w } = data(c, 10 + i);
    const got = lh.tidy(() =>
      lh.conv2d(lh.tensor(x, c.x, 'float32', js), lh.tensor(w, c.w, 'float32', js), opts(c)).dataSync(),
    );
    expectClose(got, conv64(c, x, w).y, 1e-5, 1e-5, name(c));
  });
});

describe('js conv2d gradients equal central differences of the float64 restatement', { tags: ['invariant'] }, () => {
  /** ∂/∂v[k] of L = Σ r · conv64(…) by central differences, at every coordinate of v. */
  const numeric = (v: Float32Array, L: (u: Float64Array) => number) => {
    const u = Float64Array.from(v),
      g = new Float64Array(v.length),
      h = 0.5;
    for (let k = 0; k < v.length; k++) {
      u[k] = v[k] + h;
      const up = L(u);
      u[k] = v[k] - h;
      g[k] = (up - L(u)) / (2 * h);
      u[k] = v[k];
    }
    return g;
  };
  const dot = (a: Float64Array, r: Float32Array) => a.reduce((s, v, k) => s + v * r[k], 0);

  it.each(convs.map((c, i) => [name(c), c, i] as const))('%s: input and weight VJPs', (_n, c, i) => {
    const { x, w, r, shape } = data(c, 20 + i);
    const [dx, dw] = lh.tidy(() => {
      const dy = lh.tensor(r, shape, 'float32', js);
      return [
        lh.conv2dBackpropInput(dy, lh.tensor(w, c.w, 'float32', js), c.x, opts(c)).dataSync(),
        lh.conv2dBackpropFilter(lh.tensor(x, c.x, 'float32', js), dy, c.w, opts(c)).dataSync(),
      ];
    });
    expectClose(
      dx,
      numeric(x, (u) => dot(conv64(c, u, w).y, r)),
      1e-5,
      1e-5,
      `${name(c)} dx`,
    );
    expectClose(
      dw,
      numeric(w, (u) => dot(conv64(c, x, u).y, r)),
      1e-5,
      1e-5,
      `${name(c)} dw`,
    );
  });
});
