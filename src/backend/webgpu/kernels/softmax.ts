import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear, linearLaunch } from '../wgsl.js';

/** log Σ exp over row `row` of x (`p.C` columns), stable: the max first. */
const lse = `
fn lse(row: u32) -> f32 {
  var m = ninf();
  for (var j = 0u; j < p.C; j++) { m = max(m, x[row * p.C + j]); }
  var s = 0.0;
  for (var j = 0u; j < p.C; j++) { s += exp(x[row * p.C + j] - m); }
  return m + log(s);
}`;

function rowsOf(x: Tensor): [number, number] {
  const C = x.shape[x.rank - 1];
  return [C ? x.size / C : 0, C];
}

/** One thread a row: R rows (`p.n`) of C columns (`p.C`, a uniform like the row count). */
function perRow(
  b: WebGpuBackend,
  inputs: Tensor[],
  names: [string, 'float32' | 'int32'][],
  out: Tensor,
  R: number,
  C: number,
  body: string,
): void {
  const { params, groups } = linearLaunch(b, R);
  params.u({ C });
  b.run(
    `${bindings(names, [['y', 'float32']], params.struct())}\n${lse}\n${linear(body)}`,
    inputs,
    [out],
    params,
    groups,
  );
}

export function softmaxGpu(b: WebGpuBackend, [x]: readonly Tensor[]): Tensor {
  const out = makeTensor(b, x.shape),
    [R, C] = rowsOf(x);
  perRow(
    b,
    [x],
    [['x', 'float32']],
    out,
    R,
    C,
    `let l = lse(i); for (var j = 0u; j < p.C; j++) { y[i * p.C + j] = exp(x[i * p.C + j] - l); }`,
  );
  return out;
}

export function logSoftmaxGpu(b: WebGpuBackend, [x]: readonly Tensor[]): Tensor {
  const out = makeTensor(b, x.shape),
    [R, C] = rowsOf(x);
  perRow(
    b,
    [x],
    [['x', 'float32']],
    out,
    R,
    C,
    `let l = lse(i); for (var j = 0u; j < p.C; j++) { y[i * p.C + j] = x[i * p.C + j] - l; }`,
  );
  return out;
}

export function crossEntropyGpu(b: WebGpuBackend, [logits, labels]: readonly Tensor[]): Tensor {
  const [R, C] = logits.shape,
    out = makeTensor(b, [R]);
  perRow(
    b,
    [logits, labels],
    [
      ['x', 'float32'],
      ['lab', 'int32'],
    ],
    out,
    R,
    C,
    `y[i] = lse(i) - x[i * p.C + u32(lab[i])];`,
  );
  return out;
}

export function crossEntropyGradGpu(b: WebGpuBackend, [logits, labels, dLoss]: readonly Tensor[]): Tensor {
  const [R, C] = logits.shape,
    out = makeTensor(b, logits.shape);
  perRow(
    b,
    [logits, labels, dLoss],
    [
      ['x', 'float32'],
      ['lab', 'int32'],
      ['g', 'float32'],
    ],
    out,
    R,
    C,
    `let l = lse(i); let t = u32(lab[i]); for (var j = 0u; j < p.C; j++) { ` +
      `y[i * p.C + j] = (exp(x[i * p.C + j] - l) - select(0.0, 1.0, j == t)) * g[i]; }`,
  );
  return out;
}
