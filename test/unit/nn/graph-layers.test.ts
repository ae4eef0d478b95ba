/**
 * The layers PyTorch-exported graphs need (hardswish, clip, leakyrelu, hardsigmoid, pad, layernorm, globalavgpool,
 * reshape, transpose, broadcasting branches): forward against a float64 restatement of the ONNX operator, backward
 * against central finite differences, on the js backend and on wasm; bad specs are typed errors.
 */
import { describe, expect, it } from 'vitest';
import { type Backend, type LayerhiveError, nn, Rng, tensor, tidy } from '../../../src/index.js';
import type { LayerSpec } from '../../../src/nn/layer.js';
import { expectClose, js, randomArray, wasmRelaxed } from '../helpers.js';

const backends: [string, Backend][] = [
  ['js', js],
  ['wasm', wasmRelaxed],
];
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

function build(input: number[], layers: LayerSpec[], backend: Backend): nn.Sequential {
  return new nn.Sequential({ input, layers }, { backend, rng: new Rng(1) });
}

/** Every parameter set to random values (gamma around 1), returned by name. */
function randomizeParams(model: nn.Sequential, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const values: Record<string, Float32Array> = {};
  for (const [k, t] of model.namedParams())
    values[k] = k.endsWith('gamma') ? randomArray(rng, t.size, 0.5, 1.5) : randomArray(rng, t.size, -0.5, 0.5);
  model.setParams(values);
  return values;
}

/** Uniform in [lo, hi], at least `gap` away from each kink (so finite differences do not straddle one). */
function inputAwayFrom(rng: Rng, n: number, lo: number, hi: number, kinks: number[], gap = 0.05): Float32Array {
  const x = randomArray(rng, n, lo, hi);
  for (let i = 0; i < n; i++) while (kinks.some((k) => Math.abs(x[i] - k) < gap)) x[i] = lo + (hi - lo) * rng.uniform();
  return x;
}

// ---- float64 restatements of the ONNX operators (batched shapes, row-major) ----

const pointwise = (f: (v: number) => number) => (x: Float32Array) => Float64Array.from(x, f);
const hardswish = (v: number) => v * Math.max(0, Math.min(1, v / 6 + 0.5)); // HardSwish: x·HardSigmoid(1/6, 1/2)
const clip = (lo: number, hi: number) => (v: number) => Math.min(Math.max(v, lo), hi);
const leaky = (a: number) => (v: number) => (v < 0 ? a * v : v);
const hardsigmoid = (a: number, b: number) => (v: number) => Math.max(0, Math.min(1, a * v + b));

function stridesOf(shape: readonly number[]): number[] {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}
function unravel(i: number, shape: readonly number[]): number[] {
  return stridesOf(shape).map((s, k) => Math.floor(i / s) % shape[k]);
}
const ravel = (idx: readonly number[], shape: readonly number[]) =>
  stridesOf(shape).reduce((p, s, k) => p + s * idx[k], 0);

/** ONNX Pad (constant) with pads [b_1 … b_r, e_1 … e_r] over all axes of `shape`. */
function refPad(x: ArrayLike<number>, shape: number[], pads: number[], value: number): Float64Array {
  const r = shape.length,
    out = shape.map((d, k) => d + pads[k] + pads[k + r]);
  return Float64Array.from({ length: size(out) }, (_, i) => {
    const idx = unravel(i, out).map((j, k) => j - pads[k]);
    return idx.every((j, k) => j >= 0 && j < shape[k]) ? x[ravel(idx, shape)] : value;
  });
}

/** ONNX Transpose: out[idx] = x[idx permuted back], out.shape[k] = shape[perm[k]]. */
function refTranspose(x: ArrayLike<number>, shape: number[], perm: number[]): Float64Array {
  const out = perm.map((p) => shape[p]);
  return Float64Array.from({ length: size(out) }, (_, i) => {
    const o = unravel(i, out),
      src = shape.map(() => 0);
    perm.forEach((p, k) => {
      src[p] = o[k];
    });
    return x[ravel(src, shape)];
  });
}

/** ONNX LayerNormalization over the last `inner` elements of each row (biased variance). */
function refLayerNorm(
  x: ArrayLike<number>,
  inner: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps = 1e-5,
) {
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += inner) {
    let m = 0,
      v = 0;
    for (let j = 0; j < inner; j++) m += x[o + j] / inner;
    for (let j = 0; j < inner; j++) v += (x[o + j] - m) ** 2 / inner;
    for (let j = 0; j < inner; j++) y[o + j] = ((x[o + j] - m) / Math.sqrt(v + eps)) * gamma[j] + beta[j];
  }
  return y;
}

/** ONNX GlobalAveragePool: [N, C, …] → [N, C] means (the trailing 1s are only shape). */
function refGap(x: ArrayLike<number>, rows: number, per: number): Float64Array {
  return Float64Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let j = 0; j < per; j++) s += x[r * per + j];
    return s / per;
  });
}

interface ForwardCase {
  name: string;
  input: number[];
  layers: LayerSpec[];
  lo?: number;
  hi?: number;
  /** The expected output from the batched input x ([N, ...input]) and the parameters by name. */
  ref: (x: Float32Array, N: number, p: Record<string, Float32Array>) => ArrayLike<number>;
}

const forwardCases: ForwardCase[] = [
  { name: 'hardswish', input: [2, 3, 4], layers: [{ type: 'hardswish' }], lo: -5, hi: 5, ref: pointwise(hardswish) },
  {
    name: 'clip [−0.5, 0.7]',
    input: [7],
    layers: [{ type: 'clip', min: -0.5, max: 0.7 }],
    ref: pointwise(clip(-0.5, 0.7)),
  },
  {
    name: 'clip as Relu6',
    input: [2, 5],
    layers: [{ type: 'clip', min: 0, max: 6 }],
    lo: -3,
    hi: 9,
    ref: pointwise(clip(0, 6)),
  },
  { name: 'clip, min only', input: [9], layers: [{ type: 'clip', min: -0.25 }], ref: pointwise(clip(-0.25, Infinity)) },
  { name: 'clip, max only', input: [9], layers: [{ type: 'clip', max: 0.25 }], ref: pointwise(clip(-Infinity, 0.25)) },
  { name: 'leakyrelu (alpha 0.01)', input: [11], layers: [{ type: 'leakyrelu' }], ref: pointwise(leaky(0.01)) },
  {
    name: 'leakyrelu alpha 0.3',
    input: [11],
    layers: [{ type: 'leakyrelu', alpha: 0.3 }],
    ref: pointwise(leaky(0.3)),
  },
  {
    name: 'hardsigmoid (0.2, 0.5)',
    input: [13],
    layers: [{ type: 'hardsigmoid' }],
    lo: -4,
    hi: 4,
    ref: pointwise(hardsigmoid(0.2, 0.5)),
  },
  {
    name: 'hardsigmoid alpha 0.3 beta 0.4',
    input: [13],
    layers: [{ type: 'hardsigmoid', alpha: 0.3, beta: 0.4 }],
    lo: -4,
    hi: 4,
    ref: pointwise(hardsigmoid(0.3, 0.4)),
  },
  {
    name: 'pad [C, H, W] with value 0.5',
    input: [2, 3, 4],
    layers: [{ type: 'pad', pads: [1, 0, 2, 0, 3, 1], value: 0.5 }],
    ref: (x, N) => refPad(x, [N, 2, 3, 4], [0, 1, 0, 2, 0, 0, 3, 1], 0.5),
  },
  {
    name: 'pad a vector with zeros',
    input: [5],
    layers: [{ type: 'pad', pads: [2, 1] }],
    ref: (x, N) => refPad(x, [N, 5], [0, 2, 0, 1], 0),
  },
  {
    name: 'layernorm over the last axis',
    input: [3, 5],
    layers: [{ type: 'layernorm' }],
    lo: -2,
    hi: 3,
    ref: (x, _N, p) => refLayerNorm(x, 5, p['0.gamma'], p['0.beta']),
  },
  {
    name: 'layernorm over the last two axes, epsilon 1e-3',
    input: [2, 3, 4],
    layers: [{ type: 'layernorm', dims: 2, epsilon: 1e-3 }],
    ref: (x, _N, p) => refLayerNorm(x, 12, p['0.gamma'], p['0.beta'], 1e-3),
  },
  {
    name: 'globalavgpool',
    input: [3, 4, 5],
    layers: [{ type: 'globalavgpool' }],
    ref: (x, N) => refGap(x, N * 3, 20),
  },
  { name: 'reshape', input: [2, 3, 4], layers: [{ type: 'reshape', shape: [4, 6] }], ref: (x) => Float64Array.from(x) },
  {
    name: 'transpose',
    input: [2, 3, 4],
    layers: [{ type: 'transpose', perm: [2, 0, 1] }],
    ref: (x, N) => refTranspose(x, [N, 2, 3, 4], [0, 3, 1, 2]),
  },
  {
    name: 'branches add, [C, H, W] + [C, 1, 1]',
    input: [3, 4, 5],
    layers: [{ type: 'branches', merge: 'add', branches: [[], [{ type: 'globalavgpool' }]] }],
    ref: (x, N) => {
      const m = refGap(x, N * 3, 20);
      return Float64Array.from(x, (v, i) => v + m[Math.floor(i / 20)]);
    },
  },
  {
    name: 'branches mul, squeeze-excitation [C, H, W] · hardsigmoid([C, 1, 1])',
    input: [3, 4, 5],
    layers: [
      {
        type: 'branches',
        merge: 'mul',
        branches: [[], [{ type: 'globalavgpool' }, { type: 'hardsigmoid', alpha: 2, beta: 0.5 }]],
      },
    ],
    ref: (x, N) => {
      const m = refGap(x, N * 3, 20);
      return Float64Array.from(x, (v, i) => v * hardsigmoid(2, 0.5)(m[Math.floor(i / 20)]));
    },
  },
  {
    name: 'branches mul of ranks 3 and 1: [C, H, W] · [W], trailing axes aligned',
    input: [4, 3, 4],
    layers: [
      {
        type: 'branches',
        merge: 'mul',
        branches: [[], [{ type: 'globalavgpool' }, { type: 'reshape', shape: [4] }]],
      },
    ],
    // the second branch holds the 4 channel means; broadcasting pairs mean k with column w = k
    ref: (x, N) => {
      const m = refGap(x, N * 4, 12);
      return Float64Array.from(x, (v, i) => v * m[Math.floor(i / 48) * 4 + (i % 4)]);
    },
  },
  {
    name: 'branches concat of [C, H, W] and its padded copy along the channels',
    input: [2, 3, 2],
    layers: [{ type: 'branches', merge: 'concat', branches: [[], [{ type: 'pad', pads: [1, 0, 0, 0, 0, 0] }]] }],
    ref: (x, N) => {
      const out: number[] = [];
      for (let n = 0; n < N; n++) {
        // a sample is 2 channels of 3×2; the padded copy starts with a channel of zeros
        const s = Array.from(x.subarray(n * 12, n * 12 + 12));
        out.push(...s, ...new Array<number>(6).fill(0), ...s);
      }
      return out;
    },
  },
];

describe.each(backends)('graph layers on %s', (_b, backend) => {
  describe('forward equals the float64 restatement of the ONNX operator', { tags: ['hand-computed'] }, () => {
    it.each(forwardCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const model = build(c.input, c.layers, backend);
      const params = randomizeParams(model, 5);
      const N = 3;
      const x = randomArray(new Rng(11), N * size(c.input), c.lo ?? -2, c.hi ?? 2);
      const y = tidy(() => model.predict(tensor(x, [N, ...c.input], 'float32', backend)).dataSync());
      expect(model.outputShape.length).toBeGreaterThan(0);
      expectClose(y, c.ref(x, N, params), 1e-5, 1e-6, c.name);
    });
  });

  describe('gradients at the kinks are what PyTorch autograd gives', { tags: ['hand-computed'] }, () => {
    const grad = (layer: LayerSpec, xs: number[]) => {
      const model = build([xs.length], [layer], backend);
      return tidy(() => {
        const { caches } = model.forward(tensor(Float32Array.from(xs), [1, xs.length], 'float32', backend), {
          training: false,
        });
        const dy = tensor(new Float32Array(xs.length).fill(1), [1, xs.length], 'float32', backend);
        return Array.from(model.backwardWithCache(dy, caches).dx!.dataSync());
      });
    };
    it('clip: 0 at and beyond either bound, 1 strictly inside (hardtanh, ReLU6)', () => {
      expect(grad({ type: 'clip', min: 0, max: 6 }, [-1, 0, 3, 6, 7])).toEqual([0, 0, 1, 0, 0]);
    });
    it('hardswish: 0 below −3, (2x + 3)/6 on [−3, 3] bounds included, 1 above 3', () => {
      expectClose(grad({ type: 'hardswish' }, [-4, -3, 0, 1.5, 3, 4]), [0, -0.5, 0.5, 1, 1.5, 1], 1e-6, 1e-7);
    });
    it('leakyrelu: alpha at 0 and below, 1 above', () => {
      expectClose(grad({ type: 'leakyrelu', alpha: 0.25 }, [-2, 0, 2]), [0.25, 0.25, 1], 0, 0);
    });
    it('hardsigmoid: alpha strictly inside the ramp, 0 at its ends', () => {
      // 0.2·x + 0.5 is 0 at −2.5 and 1 at 2.5
      expectClose(grad({ type: 'hardsigmoid' }, [-3, -2.5, 0, 2.5, 3]), [0, 0, 0.2, 0, 0], 1e-6, 0);
    });
  });
});

// ---- backward against central finite differences (L = Σ y·r, r fixed), on any backend ----

function lossOf(model: nn.Sequential, x: Float32Array, shape: number[], r: Float64Array, backend: Backend): number {
  return tidy(() => {
    const y = model.predict(tensor(x, shape, 'float32', backend)).dataSync();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  });
}

function gradcheck(
  backend: Backend,
  input: number[],
  layers: LayerSpec[],
  o: { lo?: number; hi?: number; kinks?: number[]; eps?: number; batch?: number } = {},
): void {
  const rng = new Rng(42),
    N = o.batch ?? 2,
    shape = [N, ...input];
  const model = build(input, layers, backend);
  const params = randomizeParams(model, 9);
  const x = inputAwayFrom(rng, size(shape), o.lo ?? -2, o.hi ?? 2, o.kinks ?? []);
  const r = Float64Array.from(randomArray(rng, N * size(model.outputShape)));
  const { dx, grads } = tidy(() => {
    const { y, caches } = model.forward(tensor(x, shape, 'float32', backend), { training: false });
    const g = model.backwardWithCache(tensor(Float32Array.from(r), [...y.shape], 'float32', backend), caches);
    return {
      dx: Float32Array.from(g.dx!.dataSync()),
      grads: Object.fromEntries(Object.entries(g.grads).map(([k, t]) => [k, Float32Array.from(t.dataSync())])),
    };
  });
  expect(Object.keys(grads).sort()).toEqual(Object.keys(params).sort());
  const eps = o.eps ?? 1e-2;
  const check = (what: string, values: Float32Array, analytic: Float32Array, f: (v: Float32Array) => number) => {
    expect(analytic.length, what).toBe(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = Float32Array.from(values);
      v[i] = values[i] + eps;
      const up = f(v);
      v[i] = values[i] - eps;
      const down = f(v);
      const numeric = (up - down) / (2 * eps);
      expect(
        Math.abs(analytic[i] - numeric),
        `${what}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`,
      ).toBeLessThanOrEqual(2e-3 + 2e-2 * Math.abs(numeric));
    }
  };
  check('input', x, dx, (v) => lossOf(model, v, shape, r, backend));
  for (const [name, p] of Object.entries(params)) {
    check(name, p, grads[name], (v) => {
      model.setParams({ [name]: v });
      return lossOf(model, x, shape, r, backend);
    });
    model.setParams({ [name]: p });
  }
}

describe.each(backends)('graph layer VJPs match finite differences on %s', { tags: ['invariant'] }, (_b, backend) => {
  it('hardswish', () => gradcheck(backend, [2, 3, 4], [{ type: 'hardswish' }], { lo: -5, hi: 5, kinks: [-3, 3] }));
  it('clip [−0.5, 0.7]', () =>
    gradcheck(backend, [12], [{ type: 'clip', min: -0.5, max: 0.7 }], { kinks: [-0.5, 0.7] }));
  it('clip as Relu6', () =>
    gradcheck(backend, [12], [{ type: 'clip', min: 0, max: 6 }], { lo: -3, hi: 9, kinks: [0, 6] }));
  it('leakyrelu alpha 0.3', () => gradcheck(backend, [12], [{ type: 'leakyrelu', alpha: 0.3 }], { kinks: [0] }));
  it('hardsigmoid alpha 0.3 beta 0.4', () =>
    gradcheck(backend, [12], [{ type: 'hardsigmoid', alpha: 0.3, beta: 0.4 }], {
      lo: -3,
      hi: 3,
      kinks: [-0.4 / 0.3, 0.6 / 0.3],
    }));
  it('pad, then a dense layer', () =>
    gradcheck(
      backend,
      [2, 3, 2],
      [
        { type: 'pad', pads: [0, 1, 1, 1, 0, 2], value: -0.5 },
        { type: 'reshape', shape: [60] },
        { type: 'dense', units: 3 },
      ],
    ));
  it('layernorm over the last axis (gamma, beta)', () =>
    gradcheck(backend, [3, 5], [{ type: 'layernorm' }], { eps: 1e-3 }));
  it('layernorm over the last two axes', () =>
    gradcheck(backend, [2, 3, 4], [{ type: 'layernorm', dims: 2 }], { eps: 1e-3 }));
  it('globalavgpool', () => gradcheck(backend, [3, 4, 5], [{ type: 'globalavgpool' }]));
  it('reshape and transpose', () =>
    gradcheck(
      backend,
      [2, 3, 4],
      [
        { type: 'transpose', perm: [2, 0, 1] },
        { type: 'reshape', shape: [4, 6] },
        { type: 'transpose', perm: [1, 0] },
      ],
    ));
  it('branches add: a residual block [[], conv, layernorm]', () =>
    gradcheck(
      backend,
      [3, 4, 4],
      [
        {
          type: 'branches',
          merge: 'add',
          branches: [
            [],
            [
              { type: 'conv2d', filters: 3, kernel: 3, pad: 1 },
              { type: 'layernorm', dims: 3 },
            ],
          ],
        },
      ],
      { eps: 1e-3 },
    ));
  it('branches add broadcasting [C, H, W] + [C, 1, 1] + [1, H, W]', () =>
    gradcheck(
      backend,
      [3, 4, 4],
      [
        {
          type: 'branches',
          merge: 'add',
          branches: [[], [{ type: 'globalavgpool' }], [{ type: 'conv2d', filters: 1, kernel: 1 }]],
        },
      ],
    ));
  it('branches mul: squeeze-excitation [C, H, W] · sigmoid(conv(gap))', () =>
    gradcheck(
      backend,
      [3, 4, 4],
      [
        {
          type: 'branches',
          merge: 'mul',
          branches: [[], [{ type: 'globalavgpool' }, { type: 'conv2d', filters: 3, kernel: 1 }, { type: 'sigmoid' }]],
        },
      ],
    ));
  it('branches mul of three, ranks 3, 3 and 1', () =>
    gradcheck(
      backend,
      [4, 3, 4],
      [
        {
          type: 'branches',
          merge: 'mul',
          branches: [
            [{ type: 'conv2d', filters: 4, kernel: 1 }],
            [{ type: 'conv2d', filters: 1, kernel: 1 }, { type: 'tanh' }],
            [{ type: 'globalavgpool' }, { type: 'reshape', shape: [4] }],
          ],
        },
      ],
    ));
});

// ---- typed errors for bad specs ----

describe('bad graph-layer specs are typed errors', { tags: ['behaviour'] }, () => {
  const bad: [string, number[], LayerSpec][] = [
    ['pad with a negative pad', [2, 3], { type: 'pad', pads: [0, -1, 0, 0] }],
    ['pad with too few pads', [2, 3], { type: 'pad', pads: [1, 1] }],
    ['reshape to another element count', [2, 3, 4], { type: 'reshape', shape: [5, 5] }],
    ['reshape with a non-positive dimension', [2, 3], { type: 'reshape', shape: [-1, 6] }],
    ['transpose with a repeated axis', [2, 3, 4], { type: 'transpose', perm: [0, 0, 1] }],
    ['transpose with too few axes', [2, 3, 4], { type: 'transpose', perm: [1, 0] }],
    ['layernorm over more axes than the sample has', [2, 3, 4], { type: 'layernorm', dims: 4 }],
    ['layernorm with epsilon 0', [5], { type: 'layernorm', epsilon: 0 }],
    ['globalavgpool on a vector', [5], { type: 'globalavgpool' }],
    ['clip with a NaN bound', [5], { type: 'clip', min: Number.NaN }],
    [
      'branches add of shapes that do not broadcast',
      [3, 4, 5],
      { type: 'branches', merge: 'add', branches: [[], [{ type: 'transpose', perm: [0, 2, 1] }]] },
    ],
    [
      'branches mul of shapes that do not broadcast',
      [4],
      { type: 'branches', merge: 'mul', branches: [[], [{ type: 'dense', units: 3 }]] },
    ],
    [
      'branches concat of different spatial sizes',
      [2, 3, 3],
      { type: 'branches', merge: 'concat', branches: [[], [{ type: 'pad', pads: [0, 1, 0, 0, 0, 0] }]] },
    ],
    ['branches with no branch', [4], { type: 'branches', merge: 'add', branches: [] }],
  ];
  it.each(bad)('%s', (_name, input, layer) => {
    let err: unknown;
    try {
      build(input, [layer], js);
    } catch (e) {
      err = e;
    }
    expect((err as LayerhiveError)?.code).toBe('SPEC_INVALID');
  });
});
