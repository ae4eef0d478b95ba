import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { stridesOf } from '../../../core/shape.js';
import { reducedShape } from '../../js/kernels/reduce.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear } from '../wgsl.js';

interface ReduceAttrs {
  axes: number[];
  keepDims: boolean;
}

/**
 * WGSL that sets `base` (the input offset of output element i) and a loop `for r in [0, R)` whose body
 * sees `at`, the input offset of the r-th reduced element. One thread per output element.
 */
function reduceLoop(
  shape: readonly number[],
  axes: readonly number[],
  body: string,
): { code: string; outputs: number } {
  const strides = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const red = shape.map((_, i) => i).filter((i) => axes.includes(i));
  const keptSizes = kept.map((i) => shape[i]),
    redSizes = red.map((i) => shape[i]);
  const ks = stridesOf(keptSizes),
    rs = stridesOf(redSizes);
  const base = kept.map((d, k) => `((i / ${ks[k]}u) % ${keptSizes[k]}u) * ${strides[d]}u`).join(' + ') || '0u';
  const off = red.map((d, k) => `((r / ${rs[k]}u) % ${redSizes[k]}u) * ${strides[d]}u`).join(' + ') || '0u';
  const R = redSizes.reduce((p, d) => p * d, 1);
  return {
    code: `let base = ${base};\n  for (var r = 0u; r < ${R}u; r++) { let at = base + ${off}; ${body} }`,
    outputs: keptSizes.reduce((p, d) => p * d, 1),
  };
}

function reduceKernel(
  b: WebGpuBackend,
  x: Tensor,
  axes: number[],
  outs: Tensor[],
  names: string[],
  pre: string,
  body: string,
  post: string,
): void {
  const { code, outputs } = reduceLoop(x.shape, axes, body);
  const { groups, stride } = b.grid(outputs, 256);
  b.run(
    `${bindings(
      [['x', 'float32']],
      outs.map((t, k) => [names[k], t.dtype]),
    )}\n${linear(`${pre}\n  ${code}\n  ${post}`, outputs, stride)}`,
    [x],
    outs,
    null,
    groups,
  );
}

export function sumGpu(b: WebGpuBackend, [x]: readonly Tensor[], { axes, keepDims }: ReduceAttrs): Tensor {
  const out = makeTensor(b, reducedShape(x.shape, axes, keepDims));
  reduceKernel(b, x, axes, [out], ['y'], 'var acc = 0.0;', 'acc += x[at];', 'y[i] = acc;');
  return out;
}

export function maxGpu(b: WebGpuBackend, [x]: readonly Tensor[], { axes, keepDims }: ReduceAttrs): Tensor {
  const out = makeTensor(b, reducedShape(x.shape, axes, keepDims));
  // NaN wins, as in the reference
  reduceKernel(
    b,
    x,
    axes,
    [out],
    ['y'],
    'var m = ninf();',
    'let v = x[at]; if (v > m || v != v) { m = v; }',
    'y[i] = m;',
  );
  return out;
}

export function argmaxGpu(
  b: WebGpuBackend,
  [x]: readonly Tensor[],
  { axis, keepDims }: { axis: number; keepDims: boolean },
): Tensor {
  const out = makeTensor(b, reducedShape(x.shape, [axis], keepDims), 'int32');
  reduceKernel(
    b,
    x,
    [axis],
    [out],
    ['y'],
    'var best = ninf(); var bestAt = 0i;',
    'let v = x[at]; if (v > best) { best = v; bestAt = i32(r); }',
    'y[i] = bestAt;',
  );
  return out;
}

/** Mean and biased variance, two passes over the reduced elements (as the reference). */
export function momentsGpu(b: WebGpuBackend, [x]: readonly Tensor[], { axes, keepDims }: ReduceAttrs): Tensor[] {
  const shape = reducedShape(x.shape, axes, keepDims);
  const mean = makeTensor(b, shape),
    variance = makeTensor(b, shape);
  const count = axes.reduce((p, a) => p * x.shape[a], 1);
  const first = reduceLoop(x.shape, axes, 'acc += x[at];');
  const second = reduceLoop(x.shape, axes, 'let d = x[at] - mu; sq += d * d;');
  const { groups, stride } = b.grid(first.outputs, 256);
  const body =
    `var acc = 0.0;\n  ${first.code}\n  let mu = acc / ${count}.0;\n  var sq = 0.0;\n` +
    `  { ${second.code} }\n  m[i] = mu; v[i] = sq / ${count}.0;`;
  b.run(
    `${bindings(
      [['x', 'float32']],
      [
        ['m', 'float32'],
        ['v', 'float32'],
      ],
    )}\n${linear(body, first.outputs, stride)}`,
    [x],
    [mean, variance],
    null,
    groups,
  );
  return [mean, variance];
}
