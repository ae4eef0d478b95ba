import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { Conv2DAttrs, Conv2DGradAttrs, PoolAttrs, PoolGradAttrs } from '../../kernel-attrs.js';
import { convOutHW, poolCounted, poolOutHW } from '../../shapes.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear, linearLaunch } from '../wgsl.js';

/**
 * Direct convolutions, one thread per element of what is computed (output, input gradient, filter
 * gradient), each summing its taps; the geometry comes as uniforms (u32, except the paddings: i32), so one pipeline
 * serves every shape, stride, padding, dilation and grouping. Grouped: output channel o reads input channels
 * ⌊o / Og⌋·Cg + c for c < Cg (Cg, Og: channels per group), with weight [O, Cg, kh, kw].
 */
interface G {
  N: number;
  C: number;
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

function geometry(x: readonly number[], w: readonly number[], a: Conv2DAttrs): G {
  const [N, C, H, W] = x,
    [O, , kh, kw] = w;
  return {
    N,
    C,
    H,
    W,
    O,
    Cg: C / a.groups,
    Og: O / a.groups,
    kh,
    kw,
    sh: a.stride[0],
    sw: a.stride[1],
    ph: a.pad[0],
    pw: a.pad[1],
    dh: a.dilation[0],
    dw: a.dilation[1],
    OH: convOutHW(H, W, kh, kw, a)[0],
    OW: convOutHW(H, W, kh, kw, a)[1],
  };
}

/** The geometry uniforms of a convolution: sizes and strides as u32, paddings as i32 (they are subtracted). */
function geometryParams(b: WebGpuBackend, n: number, g: G) {
  const { params, groups } = linearLaunch(b, n);
  const { N, C, Cg, Og, H, W, O, kh, kw, OH, OW, sh, sw, dh, dw, ph, pw } = g;
  params.u({ N, C, Cg, Og, H, W, O, kh, kw, OH, OW, sh, sw, dh, dw }).i({ ph, pw });
  return { params, groups };
}

function launch(b: WebGpuBackend, inputs: Tensor[], names: [string, string], out: Tensor, g: G, body: string): void {
  const { params, groups } = geometryParams(b, out.size, g);
  b.run(
    `${bindings(
      [
        [names[0], 'float32'],
        [names[1], 'float32'],
      ],
      [['out', 'float32']],
      params.struct(),
    )}\n${linear(body)}`,
    inputs,
    [out],
    params,
    groups,
  );
}

export function conv2dGpu(b: WebGpuBackend, [x, w]: readonly Tensor[], a: Conv2DAttrs): Tensor {
  const g = geometry(x.shape, w.shape, a);
  const out = makeTensor(b, [g.N, g.O, g.OH, g.OW]);
  launch(
    b,
    [x, w],
    ['x', 'w'],
    out,
    g,
    `
  let ox = i % p.OW; let oy = (i / p.OW) % p.OH;
  let o = (i / (p.OW * p.OH)) % p.O; let n = i / (p.OW * p.OH * p.O);
  let c0 = (o / p.Og) * p.Cg;
  var acc = 0.0;
  for (var c = 0u; c < p.Cg; c++) {
    for (var ki = 0u; ki < p.kh; ki++) {
      let iy = i32(oy * p.sh + ki * p.dh) - p.ph;
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      for (var kj = 0u; kj < p.kw; kj++) {
        let ix = i32(ox * p.sw + kj * p.dw) - p.pw;
        if (ix < 0 || ix >= i32(p.W)) { continue; }
        acc += x[((n * p.C + c0 + c) * p.H + u32(iy)) * p.W + u32(ix)] *
          w[((o * p.Cg + c) * p.kh + ki) * p.kw + kj];
      }
    }
  }
  out[i] = acc;`,
  );
  return out;
}

export function conv2dBackpropInputGpu(b: WebGpuBackend, [dy, w]: readonly Tensor[], a: Conv2DGradAttrs): Tensor {
  const g = geometry(a.shape, w.shape, a);
  const out = makeTensor(b, a.shape);
  launch(
    b,
    [dy, w],
    ['dy', 'w'],
    out,
    g,
    `
  let ix = i32(i % p.W); let iy = i32((i / p.W) % p.H);
  let ci = (i / (p.W * p.H)) % p.C; let n = i / (p.W * p.H * p.C);
  let c = ci % p.Cg; let o0 = (ci / p.Cg) * p.Og;
  var acc = 0.0;
  for (var o = o0; o < o0 + p.Og; o++) {
    for (var ki = 0; ki < i32(p.kh); ki++) {
      let ty = iy + p.ph - ki * i32(p.dh);
      if (ty < 0 || ty % i32(p.sh) != 0) { continue; }
      let oy = ty / i32(p.sh);
      if (oy >= i32(p.OH)) { continue; }
      for (var kj = 0; kj < i32(p.kw); kj++) {
        let tx = ix + p.pw - kj * i32(p.dw);
        if (tx < 0 || tx % i32(p.sw) != 0) { continue; }
        let ox = tx / i32(p.sw);
        if (ox >= i32(p.OW)) { continue; }
        acc += dy[((n * p.O + o) * p.OH + u32(oy)) * p.OW + u32(ox)] *
          w[((o * p.Cg + c) * p.kh + u32(ki)) * p.kw + u32(kj)];
      }
    }
  }
  out[i] = acc;`,
  );
  return out;
}

export function conv2dBackpropFilterGpu(b: WebGpuBackend, [x, dy]: readonly Tensor[], a: Conv2DGradAttrs): Tensor {
  const g = geometry(x.shape, a.shape, a);
  const out = makeTensor(b, a.shape);
  launch(
    b,
    [x, dy],
    ['x', 'dy'],
    out,
    g,
    `
  let kj = i % p.kw; let ki = (i / p.kw) % p.kh;
  let c = (i / (p.kw * p.kh)) % p.Cg; let o = i / (p.kw * p.kh * p.Cg);
  let ci = (o / p.Og) * p.Cg + c;
  var acc = 0.0;
  for (var n = 0u; n < p.N; n++) {
    for (var oy = 0u; oy < p.OH; oy++) {
      let iy = i32(oy * p.sh + ki * p.dh) - p.ph;
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      for (var ox = 0u; ox < p.OW; ox++) {
        let ix = i32(ox * p.sw + kj * p.dw) - p.pw;
        if (ix < 0 || ix >= i32(p.W)) { continue; }
        acc += x[((n * p.C + ci) * p.H + u32(iy)) * p.W + u32(ix)] *
          dy[((n * p.O + o) * p.OH + oy) * p.OW + ox];
      }
    }
  }
  out[i] = acc;`,
  );
  return out;
}

interface P {
  planes: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  /** the rows [cy0, cy1) and columns [cx0, cx1) an average's divisor counts (poolCounted) */
  cy0: number;
  cy1: number;
  cx0: number;
  cx1: number;
}
function pool(x: readonly number[], a: PoolAttrs): P {
  const [N, C, H, W] = x;
  const [cy0, cy1, cx0, cx1] = poolCounted(H, W, a);
  return {
    cy0,
    cy1,
    cx0,
    cx1,
    planes: N * C,
    H,
    W,
    kh: a.kernel[0],
    kw: a.kernel[1],
    sh: a.stride[0],
    sw: a.stride[1],
    ph: a.pad[0],
    pw: a.pad[1],
    OH: poolOutHW(H, W, a)[0],
    OW: poolOutHW(H, W, a)[1],
  };
}

/** The pooling uniforms: sizes and strides as u32, paddings and the counted region as i32 (they are signed). */
function poolParams(b: WebGpuBackend, n: number, g: P) {
  const { params, groups } = linearLaunch(b, n);
  const { planes, H, W, OH, OW, kh, kw, sh, sw, ph, pw, cy0, cy1, cx0, cx1 } = g;
  params.u({ planes, H, W, OH, OW, kh, kw, sh, sw }).i({ ph, pw, cy0, cy1, cx0, cx1 });
  return { params, groups };
}

/** WGSL for output element `o` of plane `pl`: the clipped window [y0, y1) × [x0, x1). */
const windowOf = (o: string) => `
  let wox = ${o} % p.OW; let woy = (${o} / p.OW) % p.OH; let pl = ${o} / (p.OW * p.OH);
  let y0 = max(i32(woy * p.sh) - p.ph, 0); let y1 = min(i32(woy * p.sh) - p.ph + i32(p.kh), i32(p.H));
  let x0 = max(i32(wox * p.sw) - p.pw, 0); let x1 = min(i32(wox * p.sw) - p.pw + i32(p.kw), i32(p.W));
  let base = pl * (p.H * p.W);`;

/** The flat input index of the window's first maximum (−1 when empty), as the reference. */
const argmaxFn = `
fn firstMax(o: u32) -> i32 {
  ${windowOf('o')}
  var m = ninf(); var best = -1;
  for (var iy = y0; iy < y1; iy++) { for (var ix = x0; ix < x1; ix++) {
    let k = i32(base) + iy * i32(p.W) + ix;
    if (x[k] > m || best < 0) { m = x[k]; best = k; }
  } }
  return best;
}`;

export function maxPoolGpu(b: WebGpuBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = pool(x.shape, a),
    out = makeTensor(b, [x.shape[0], x.shape[1], g.OH, g.OW]);
  const { params, groups } = poolParams(b, out.size, g);
  const body = 'let k = firstMax(i); y[i] = select(ninf(), x[max(k, 0)], k >= 0);';
  b.run(
    `${bindings([['x', 'float32']], [['y', 'float32']], params.struct())}\n${argmaxFn}\n${linear(body)}`,
    [x],
    [out],
    params,
    groups,
  );
  return out;
}

/** Each input pixel sums dy over the windows whose first maximum it is (no atomics). */
export function maxPoolGradGpu(b: WebGpuBackend, [dy, x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = pool(x.shape, a),
    out = makeTensor(b, x.shape);
  const { params, groups } = poolParams(b, out.size, g);
  const oyLo = 'max((iy + p.ph - i32(p.kh)) / i32(p.sh) + 1, 0)',
    oxLo = 'max((ix + p.pw - i32(p.kw)) / i32(p.sw) + 1, 0)';
  b.run(
    `${bindings(
      [
        ['dy', 'float32'],
        ['x', 'float32'],
      ],
      [['dx', 'float32']],
      params.struct(),
    )}\n${argmaxFn}\n${linear(
      `
  let ix = i32(i % p.W); let iy = i32((i / p.W) % p.H); let plane = i / (p.H * p.W);
  var acc = 0.0;
  for (var oy = select(0, ${oyLo}, iy + p.ph - i32(p.kh) >= 0);
       oy <= min((iy + p.ph) / i32(p.sh), i32(p.OH) - 1); oy++) {
    for (var ox = select(0, ${oxLo}, ix + p.pw - i32(p.kw) >= 0);
         ox <= min((ix + p.pw) / i32(p.sw), i32(p.OW) - 1); ox++) {
      let o = (plane * p.OH + u32(oy)) * p.OW + u32(ox);
      if (firstMax(o) == i32(i)) { acc += dy[o]; }
    }
  }
  dx[i] = acc;`,
    )}`,
    [dy, x],
    [out],
    params,
    groups,
  );
  return out;
}

export function avgPoolGpu(b: WebGpuBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = pool(x.shape, a),
    out = makeTensor(b, [x.shape[0], x.shape[1], g.OH, g.OW]);
  const { params, groups } = poolParams(b, out.size, g);
  b.run(
    `${bindings([['x', 'float32']], [['y', 'float32']], params.struct())}\n${linear(
      `${windowOf('i')}
  var s = 0.0;
  for (var iy = y0; iy < y1; iy++) { for (var ix = x0; ix < x1; ix++) { s += x[i32(base) + iy * i32(p.W) + ix]; } }
  let ys = i32(woy * p.sh) - p.ph; let xs = i32(wox * p.sw) - p.pw;
  let count = (min(ys + i32(p.kh), p.cy1) - max(ys, p.cy0)) * (min(xs + i32(p.kw), p.cx1) - max(xs, p.cx0));
  y[i] = select(0.0, s / f32(count), count > 0);`,
    )}`,
    [x],
    [out],
    params,
    groups,
  );
  return out;
}

export function avgPoolGradGpu(b: WebGpuBackend, [dy]: readonly Tensor[], a: PoolGradAttrs): Tensor {
  const shape = a.shape;
  const g = pool(shape, a),
    out = makeTensor(b, shape);
  const { params, groups } = poolParams(b, out.size, g);
  b.run(
    `${bindings([['dy', 'float32']], [['dx', 'float32']], params.struct())}\n${linear(
      `
  let ix = i32(i % p.W); let iy = i32((i / p.W) % p.H); let plane = i / (p.H * p.W);
  var acc = 0.0;
  for (var oy = 0; oy < i32(p.OH); oy++) {
    let y0 = max(oy * i32(p.sh) - p.ph, 0); let y1 = min(oy * i32(p.sh) - p.ph + i32(p.kh), i32(p.H));
    if (iy < y0 || iy >= y1) { continue; }
    for (var ox = 0; ox < i32(p.OW); ox++) {
      let x0 = max(ox * i32(p.sw) - p.pw, 0); let x1 = min(ox * i32(p.sw) - p.pw + i32(p.kw), i32(p.W));
      if (ix < x0 || ix >= x1) { continue; }
      let ys = oy * i32(p.sh) - p.ph; let xs = ox * i32(p.sw) - p.pw;
      let count = (min(ys + i32(p.kh), p.cy1) - max(ys, p.cy0)) * (min(xs + i32(p.kw), p.cx1) - max(xs, p.cx0));
      acc += dy[(plane * p.OH + u32(oy)) * p.OW + u32(ox)] / f32(count);
    }
  }
  dx[i] = acc;`,
    )}`,
    [dy],
    [out],
    params,
    groups,
  );
  return out;
}
