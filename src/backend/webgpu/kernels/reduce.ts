import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { stridesOf } from '../../../core/shape.js';
import type { ArgmaxAttrs, ReduceAttrs } from '../../kernel-attrs.js';
import { reducedShape } from '../../shapes.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear, linearLaunch } from '../wgsl.js';

/**
 * WGSL that sets `base` (the input offset of output element i) and a loop `for r in [0, R)` whose body
 * sees `at`, the input offset of the r-th reduced element. One thread per output element. The sizes and strides are
 * uniforms (`fields`, added to the dispatch's Params): the code depends only on how many axes are kept and reduced.
 */
function reduceLoop(
  shape: readonly number[],
  axes: readonly number[],
  body: string,
): { code: string; outputs: number; fields: Record<string, number> } {
  const strides = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const red = shape.map((_, i) => i).filter((i) => axes.includes(i));
  const keptSizes = kept.map((i) => shape[i]),
    redSizes = red.map((i) => shape[i]);
  const ks = stridesOf(keptSizes),
    rs = stridesOf(redSizes);
  const fields: Record<string, number> = {};
  kept.forEach((d, k) => {
    fields[`ks${k}`] = ks[k];
    fields[`kd${k}`] = keptSizes[k];
    fields[`kst${k}`] = strides[d];
  });
  red.forEach((d, k) => {
    fields[`rs${k}`] = rs[k];
    fields[`rd${k}`] = redSizes[k];
    fields[`rst${k}`] = strides[d];
  });
  fields.R = redSizes.reduce((p, d) => p * d, 1);
  const base = kept.map((_, k) => `((i / p.ks${k}) % p.kd${k}) * p.kst${k}`).join(' + ') || '0u';
  const off = red.map((_, k) => `((r / p.rs${k}) % p.rd${k}) * p.rst${k}`).join(' + ') || '0u';
  return {
    code: `let base = ${base};\n  for (var r = 0u; r < p.R; r++) { let at = base + ${off}; ${body} }`,
    outputs: keptSizes.reduce((p, d) => p * d, 1),
    fields,
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
  const { code, outputs, fields } = reduceLoop(x.shape, axes, body);
  const { params, groups } = linearLaunch(b, outputs);
  params.u(fields);
  b.run(
    `${bindings(
      [['x', 'float32']],
      outs.map((t, k) => [names[k], t.dtype]),
      params.struct(),
    )}\n${linear(`${pre}\n  ${code}\n  ${post}`)}`,
    [x],
    outs,
    params,
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

export function argmaxGpu(b: WebGpuBackend, [x]: readonly Tensor[], { axis, keepDims }: ArgmaxAttrs): Tensor {
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
  const { params, groups } = linearLaunch(b, first.outputs);
  // the same shape and axes: both loops read the same fields
  params.u(first.fields).f({ count });
  const body =
    'var acc = 0.0;\n  ' +
    first.code +
    '\n  let mu = acc / p.count;\n  var sq = 0.0;\n' +
    `  { ${second.code} }\n  m[i] = mu; v[i] = sq / p.count;`;
  b.run(
    `${bindings(
      [['x', 'float32']],
      [
        ['m', 'float32'],
        ['v', 'float32'],
      ],
      params.struct(),
    )}\n${linear(body)}`,
    [x],
    [mean, variance],
    params,
    groups,
  );
  return [mean, variance];
}
