import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { convOutSize, type Conv2DAttrs, type Conv2DGradAttrs } from '../../js/kernels/conv2d.js';
import type { PoolAttrs } from '../../js/kernels/pool.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear } from '../wgsl.js';

/**
 * Direct convolutions, one thread per element of what is computed (output, input gradient, filter
 * gradient), each summing its taps; geometry is baked into the shader as constants.
 */
interface G {
  N: number;
  C: number;
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
    kh,
    kw,
    sh: a.stride[0],
    sw: a.stride[1],
    ph: a.pad[0],
    pw: a.pad[1],
    OH: convOutSize(H, kh, a.stride[0], a.pad[0]),
    OW: convOutSize(W, kw, a.stride[1], a.pad[1]),
  };
}

function launch(b: WebGpuBackend, inputs: Tensor[], names: [string, string], out: Tensor, body: string): void {
  const { groups, stride } = b.grid(out.size, 256);
  b.run(
    `${bindings(
      [
        [names[0], 'float32'],
        [names[1], 'float32'],
      ],
      [['out', 'float32']],
    )}\n${linear(body, out.size, stride)}`,
    inputs,
    [out],
    null,
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
    `
  let ox = i % ${g.OW}u; let oy = (i / ${g.OW}u) % ${g.OH}u;
  let o = (i / ${g.OW * g.OH}u) % ${g.O}u; let n = i / ${g.OW * g.OH * g.O}u;
  var acc = 0.0;
  for (var c = 0u; c < ${g.C}u; c++) {
    for (var ki = 0u; ki < ${g.kh}u; ki++) {
      let iy = i32(oy * ${g.sh}u + ki) - ${g.ph};
      if (iy < 0 || iy >= ${g.H}) { continue; }
      for (var kj = 0u; kj < ${g.kw}u; kj++) {
        let ix = i32(ox * ${g.sw}u + kj) - ${g.pw};
        if (ix < 0 || ix >= ${g.W}) { continue; }
        acc += x[((n * ${g.C}u + c) * ${g.H}u + u32(iy)) * ${g.W}u + u32(ix)] *
          w[((o * ${g.C}u + c) * ${g.kh}u + ki) * ${g.kw}u + kj];
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
    `
  let ix = i32(i % ${g.W}u); let iy = i32((i / ${g.W}u) % ${g.H}u);
  let c = (i / ${g.W * g.H}u) % ${g.C}u; let n = i / ${g.W * g.H * g.C}u;
  var acc = 0.0;
  for (var o = 0u; o < ${g.O}u; o++) {
    for (var ki = 0; ki < ${g.kh}; ki++) {
      let ty = iy + ${g.ph} - ki;
      if (ty < 0 || ty % ${g.sh} != 0) { continue; }
      let oy = ty / ${g.sh};
      if (oy >= ${g.OH}) { continue; }
      for (var kj = 0; kj < ${g.kw}; kj++) {
        let tx = ix + ${g.pw} - kj;
        if (tx < 0 || tx % ${g.sw} != 0) { continue; }
        let ox = tx / ${g.sw};
        if (ox >= ${g.OW}) { continue; }
        acc += dy[((n * ${g.O}u + o) * ${g.OH}u + u32(oy)) * ${g.OW}u + u32(ox)] *
          w[((o * ${g.C}u + c) * ${g.kh}u + u32(ki)) * ${g.kw}u + u32(kj)];
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
    `
  let kj = i % ${g.kw}u; let ki = (i / ${g.kw}u) % ${g.kh}u;
  let c = (i / ${g.kw * g.kh}u) % ${g.C}u; let o = i / ${g.kw * g.kh * g.C}u;
  var acc = 0.0;
  for (var n = 0u; n < ${g.N}u; n++) {
    for (var oy = 0u; oy < ${g.OH}u; oy++) {
      let iy = i32(oy * ${g.sh}u + ki) - ${g.ph};
      if (iy < 0 || iy >= ${g.H}) { continue; }
      for (var ox = 0u; ox < ${g.OW}u; ox++) {
        let ix = i32(ox * ${g.sw}u + kj) - ${g.pw};
        if (ix < 0 || ix >= ${g.W}) { continue; }
        acc += x[((n * ${g.C}u + c) * ${g.H}u + u32(iy)) * ${g.W}u + u32(ix)] *
          dy[((n * ${g.O}u + o) * ${g.OH}u + oy) * ${g.OW}u + ox];
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
}
function pool(x: readonly number[], a: PoolAttrs): P {
  const [N, C, H, W] = x;
  return {
    planes: N * C,
    H,
    W,
    kh: a.kernel[0],
    kw: a.kernel[1],
    sh: a.stride[0],
    sw: a.stride[1],
    ph: a.pad[0],
    pw: a.pad[1],
    OH: convOutSize(H, a.kernel[0], a.stride[0], a.pad[0]),
    OW: convOutSize(W, a.kernel[1], a.stride[1], a.pad[1]),
  };
}

/** WGSL for output element `o` of plane `pl`: the clipped window [y0, y1) × [x0, x1). */
const windowOf = (p: P, o: string) => `
  let wox = ${o} % ${p.OW}u; let woy = (${o} / ${p.OW}u) % ${p.OH}u; let pl = ${o} / ${p.OW * p.OH}u;
  let y0 = max(i32(woy * ${p.sh}u) - ${p.ph}, 0); let y1 = min(i32(woy * ${p.sh}u) - ${p.ph} + ${p.kh}, ${p.H});
  let x0 = max(i32(wox * ${p.sw}u) - ${p.pw}, 0); let x1 = min(i32(wox * ${p.sw}u) - ${p.pw} + ${p.kw}, ${p.W});
  let base = pl * ${p.H * p.W}u;`;

/** The flat input index of the window's first maximum (−1 when empty), as the reference. */
const argmaxFn = (p: P) => `
fn firstMax(o: u32) -> i32 {
  ${windowOf(p, 'o')}
  var m = ninf(); var best = -1;
  for (var iy = y0; iy < y1; iy++) { for (var ix = x0; ix < x1; ix++) {
    let k = i32(base) + iy * ${p.W} + ix;
    if (x[k] > m || best < 0) { m = x[k]; best = k; }
  } }
  return best;
}`;

export function maxPoolGpu(b: WebGpuBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const p = pool(x.shape, a),
    out = makeTensor(b, [x.shape[0], x.shape[1], p.OH, p.OW]);
  const { groups, stride } = b.grid(out.size, 256);
  const body = 'let k = firstMax(i); y[i] = select(ninf(), x[max(k, 0)], k >= 0);';
  b.run(
    `${bindings([['x', 'float32']], [['y', 'float32']])}\n${argmaxFn(p)}\n${linear(body, out.size, stride)}`,
    [x],
    [out],
    null,
    groups,
  );
  return out;
}

/** Each input pixel sums dy over the windows whose first maximum it is (no atomics). */
export function maxPoolGradGpu(b: WebGpuBackend, [dy, x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const p = pool(x.shape, a),
    out = makeTensor(b, x.shape);
  const { groups, stride } = b.grid(out.size, 256);
  const oyLo = `max((iy + ${p.ph} - ${p.kh}) / ${p.sh} + 1, 0)`,
    oxLo = `max((ix + ${p.pw} - ${p.kw}) / ${p.sw} + 1, 0)`;
  b.run(
    `${bindings(
      [
        ['dy', 'float32'],
        ['x', 'float32'],
      ],
      [['dx', 'float32']],
    )}\n${argmaxFn(p)}\n${linear(
      `
  let ix = i32(i % ${p.W}u); let iy = i32((i / ${p.W}u) % ${p.H}u); let plane = i / ${p.H * p.W}u;
  var acc = 0.0;
  for (var oy = select(0, ${oyLo}, iy + ${p.ph} - ${p.kh} >= 0);
       oy <= min((iy + ${p.ph}) / ${p.sh}, ${p.OH - 1}); oy++) {
    for (var ox = select(0, ${oxLo}, ix + ${p.pw} - ${p.kw} >= 0);
         ox <= min((ix + ${p.pw}) / ${p.sw}, ${p.OW - 1}); ox++) {
      let o = (plane * ${p.OH}u + u32(oy)) * ${p.OW}u + u32(ox);
      if (firstMax(o) == i32(i)) { acc += dy[o]; }
    }
  }
  dx[i] = acc;`,
      out.size,
      stride,
    )}`,
    [dy, x],
    [out],
    null,
    groups,
  );
  return out;
}

export function avgPoolGpu(b: WebGpuBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const p = pool(x.shape, a),
    out = makeTensor(b, [x.shape[0], x.shape[1], p.OH, p.OW]);
  const { groups, stride } = b.grid(out.size, 256);
  b.run(
    `${bindings([['x', 'float32']], [['y', 'float32']])}\n${linear(
      `${windowOf(p, 'i')}
  var s = 0.0;
  for (var iy = y0; iy < y1; iy++) { for (var ix = x0; ix < x1; ix++) { s += x[i32(base) + iy * ${p.W} + ix]; } }
  let count = (y1 - y0) * (x1 - x0);
  y[i] = select(0.0, s / f32(count), count > 0);`,
      out.size,
      stride,
    )}`,
    [x],
    [out],
    null,
    groups,
  );
  return out;
}

export function avgPoolGradGpu(
  b: WebGpuBackend,
  [dy]: readonly Tensor[],
  a: PoolAttrs & { shape: readonly number[] },
): Tensor {
  const shape = a.shape;
  const p = pool(shape, a),
    out = makeTensor(b, shape);
  const { groups, stride } = b.grid(out.size, 256);
  b.run(
    `${bindings([['dy', 'float32']], [['dx', 'float32']])}\n${linear(
      `
  let ix = i32(i % ${p.W}u); let iy = i32((i / ${p.W}u) % ${p.H}u); let plane = i / ${p.H * p.W}u;
  var acc = 0.0;
  for (var oy = 0; oy < ${p.OH}; oy++) {
    let y0 = max(oy * ${p.sh} - ${p.ph}, 0); let y1 = min(oy * ${p.sh} - ${p.ph} + ${p.kh}, ${p.H});
    if (iy < y0 || iy >= y1) { continue; }
    for (var ox = 0; ox < ${p.OW}; ox++) {
      let x0 = max(ox * ${p.sw} - ${p.pw}, 0); let x1 = min(ox * ${p.sw} - ${p.pw} + ${p.kw}, ${p.W});
      if (ix < x0 || ix >= x1) { continue; }
      acc += dy[(plane * ${p.OH}u + u32(oy)) * ${p.OW}u + u32(ox)] / f32((y1 - y0) * (x1 - x0));
    }
  }
  dx[i] = acc;`,
      out.size,
      stride,
    )}`,
    [dy],
    [out],
    null,
    groups,
  );
  return out;
}
