import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear } from '../wgsl.js';

/** log Σ exp over row `row` of x (cols C), stable: the max first. */
const lse = (C: number) => `
fn lse(row: u32) -> f32 {
  var m = ninf();
  for (var j = 0u; j < ${C}u; j++) { m = max(m, x[row * ${C}u + j]); }
  var s = 0.0;
  for (var j = 0u; j < ${C}u; j++) { s += exp(x[row * ${C}u + j] - m); }
  return m + log(s);
}`;

function rowsOf(x: Tensor): [number, number] {
  const C = x.shape[x.rank - 1];
  return [C ? x.size / C : 0, C];
}

function perRow(
  b: WebGpuBackend,
  inputs: Tensor[],
  names: [string, 'float32' | 'int32'][],
  out: Tensor,
  R: number,
  C: number,
  body: string,
): void {
  const { groups, stride } = b.grid(R, 256);
  b.run(`${bindings(names, [['y', 'float32']])}\n${lse(C)}\n${linear(body, R, stride)}`, inputs, [out], null, groups);
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
    `let l = lse(i); for (var j = 0u; j < ${C}u; j++) { y[i * ${C}u + j] = exp(x[i * ${C}u + j] - l); }`,
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
    `let l = lse(i); for (var j = 0u; j < ${C}u; j++) { y[i * ${C}u + j] = x[i * ${C}u + j] - l; }`,
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
    `y[i] = lse(i) - x[i * ${C}u + u32(lab[i])];`,
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
    `let l = lse(i); let t = u32(lab[i]); for (var j = 0u; j < ${C}u; j++) { ` +
      `y[i * ${C}u + j] = (exp(x[i * ${C}u + j] - l) - select(0.0, 1.0, j == t)) * g[i]; }`,
  );
  return out;
}
