// @module-tag invariant
/**
 * Finite-difference checks of every layer's VJP, on the js reference backend: the analytic gradient of
 * L = Σ y·r (r fixed random) against (L(θ + ε) − L(θ − ε)) / 2ε for the input and every parameter.
 */
import { describe, expect, it } from 'vitest';
import { nn, Rng, tensor, tidy, type Tensor } from '../../../src/index.js';
import { js, randomArray } from '../helpers.js';

function loss(model: nn.Sequential, x: Tensor, r: Float64Array, training: boolean, seed: number): number {
  return tidy(() => {
    const y = model.forward(x, { training, rng: new Rng(seed) }).y.dataSync();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  });
}

/** Compare analytic and numeric derivatives at a sample of coordinates of one tensor (perturbed in place). */
function checkTensor(
  name: string,
  t: Tensor,
  analytic: Float32Array,
  f: () => number,
  rng: Rng,
  EPS: number,
  samples = 12,
): void {
  const view = (js as unknown as { view(s: unknown): Float32Array }).view(t.storage);
  const picks = new Set<number>();
  while (picks.size < Math.min(samples, t.size)) picks.add(rng.int(t.size));
  for (const i of picks) {
    const orig = view[i];
    view[i] = orig + EPS;
    const up = f();
    view[i] = orig - EPS;
    const down = f();
    view[i] = orig;
    const numeric = (up - down) / (2 * EPS);
    const tol = 2e-3 + 2e-2 * Math.abs(numeric);
    expect(
      Math.abs(analytic[i] - numeric),
      `${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`,
    ).toBeLessThanOrEqual(tol);
  }
}

function gradcheck(
  spec: nn.ModelSpec,
  batch: number,
  opts: { training?: boolean; intInput?: number; eps?: number } = {},
): void {
  const rng = new Rng(42);
  const model = new nn.Sequential(spec, { backend: js, rng: new Rng(1) });
  const n = batch * spec.input.reduce((p, d) => p * d, 1);
  const x = opts.intInput
    ? tensor(
        Int32Array.from({ length: n }, () => rng.int(opts.intInput!)),
        [batch, ...spec.input],
        'int32',
        js,
      )
    : tensor(randomArray(rng, n, -2, 2), [batch, ...spec.input], 'float32', js);
  const outSize = batch * model.outputShape.reduce((p, d) => p * d, 1);
  const r = Float64Array.from(randomArray(rng, outSize));
  const training = opts.training ?? false;
  const seed = 7;
  const { dx, grads } = tidy(() => {
    const { y, caches } = model.forward(x, { training, rng: new Rng(seed) });
    const g = model.backwardWithCache(tensor(Float32Array.from(r), [...y.shape], 'float32', js), caches);
    return {
      dx: g.dx ? (g.dx.dataSync() as Float32Array) : null,
      grads: Object.fromEntries(Object.entries(g.grads).map(([k, t]) => [k, t.dataSync() as Float32Array])),
    };
  });
  const f = () => loss(model, x, r, training, seed);
  const eps = opts.eps ?? 1e-2;
  if (dx) checkTensor('input', x, dx, f, rng, eps);
  const params = model.namedParams();
  expect(Object.keys(grads).sort()).toEqual([...params.keys()].sort());
  for (const [name, p] of params) checkTensor(name, p, grads[name], f, rng, eps);
}

describe('layer VJPs match finite differences', () => {
  it('dense', () => gradcheck({ input: [7], layers: [{ type: 'dense', units: 5 }] }, 3));
  it('dense without bias', () => gradcheck({ input: [4], layers: [{ type: 'dense', units: 3, bias: false }] }, 2));
  it('dense over the last axis of [T, K] (lastAxis: ONNX MatMul of an N-D input)', () =>
    gradcheck({ input: [3, 4], layers: [{ type: 'dense', units: 5, lastAxis: true }, { type: 'tanh' }] }, 2));
  it('conv2d stride 1 pad 1', () =>
    gradcheck({ input: [2, 6, 5], layers: [{ type: 'conv2d', filters: 3, kernel: 3, pad: 1 }] }, 2));
  it('conv2d stride 2 no pad', () =>
    gradcheck({ input: [3, 7, 7], layers: [{ type: 'conv2d', filters: 2, kernel: [3, 2], stride: 2 }] }, 2));
  it('conv2d grouped (2 groups), dilated 2×1', () =>
    gradcheck(
      { input: [4, 7, 6], layers: [{ type: 'conv2d', filters: 6, kernel: 3, pad: 1, groups: 2, dilation: [2, 1] }] },
      2,
    ));
  it('conv2d depthwise, multiplier 2, stride 2', () =>
    gradcheck({ input: [3, 8, 7], layers: [{ type: 'conv2d', filters: 6, kernel: 3, stride: 2, groups: 3 }] }, 2));
  it('maxpool2d', () => gradcheck({ input: [2, 6, 6], layers: [{ type: 'maxpool2d', kernel: 2 }] }, 2));
  it('avgpool2d with padding', () =>
    gradcheck({ input: [2, 5, 5], layers: [{ type: 'avgpool2d', kernel: 3, stride: 2, pad: 1 }] }, 2));
  it('max and average pools padded after only (ceil_mode)', () =>
    gradcheck(
      {
        input: [2, 5, 7],
        layers: [
          { type: 'avgpool2d', kernel: 3, stride: 2, pad: [1, 0, 2, 2] },
          { type: 'maxpool2d', kernel: 2, pad: [0, 0, 1, 1] },
        ],
      },
      2,
    ));
  it('avgpool2d counting the padding (count_include_pad)', () =>
    gradcheck(
      { input: [2, 5, 6], layers: [{ type: 'avgpool2d', kernel: 3, stride: 2, pad: [1, 2, 2, 1], countPad: true }] },
      2,
    ));
  it('conv2d with pads that differ before and after', () =>
    gradcheck(
      { input: [2, 6, 5], layers: [{ type: 'conv2d', filters: 3, kernel: 3, stride: 2, pad: [0, 1, 1, 0] }] },
      2,
    ));
  it('flatten + dense', () =>
    gradcheck({ input: [2, 3, 3], layers: [{ type: 'flatten' }, { type: 'dense', units: 4 }] }, 2));
  for (const act of ['relu', 'sigmoid', 'tanh', 'gelu'] as const) {
    it(act, () => gradcheck({ input: [9], layers: [{ type: act }] }, 3));
  }
  it('batchnorm (training, dense features)', () =>
    gradcheck({ input: [5], layers: [{ type: 'batchnorm' }] }, 6, { training: true }));
  it('batchnorm (training, conv channels)', () =>
    gradcheck({ input: [3, 4, 4], layers: [{ type: 'batchnorm' }] }, 3, { training: true }));
  it('batchnorm (evaluation)', () => gradcheck({ input: [5], layers: [{ type: 'batchnorm' }] }, 4));
  it('dropout (training, fixed mask)', () =>
    gradcheck({ input: [12], layers: [{ type: 'dropout', rate: 0.3 }] }, 3, { training: true }));
  it('embedding (gradient to the table)', () =>
    gradcheck({ input: [], layers: [{ type: 'embedding', vocab: 6, dim: 4 }] }, 9, { intInput: 6 }));
  it('branches: concat', () =>
    gradcheck(
      {
        input: [6],
        layers: [
          {
            type: 'branches',
            merge: 'concat',
            branches: [[{ type: 'dense', units: 3 }], [{ type: 'dense', units: 2 }, { type: 'tanh' }]],
          },
        ],
      },
      3,
    ));
  it('branches: skip (add)', () =>
    gradcheck(
      {
        input: [5],
        layers: [{ type: 'branches', merge: 'add', branches: [[], [{ type: 'dense', units: 5 }, { type: 'relu' }]] }],
      },
      3,
    ));
  it('a small CNN end to end', () =>
    gradcheck(
      {
        input: [1, 8, 8],
        layers: [
          { type: 'conv2d', filters: 3, kernel: 3, pad: 1 },
          { type: 'batchnorm' },
          { type: 'relu' },
          { type: 'maxpool2d', kernel: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 4 },
          { type: 'gelu' },
          { type: 'dense', units: 3 },
        ],
      },
      2,
      { training: true, eps: 1e-3 },
    ));
});

describe('batch-norm running statistics', () => {
  it('update in place, so every holder (a Branches layer, a checkpoint) sees live, current tensors', () => {
    const model = new nn.Sequential(
      {
        input: [4],
        layers: [
          { type: 'branches', merge: 'add', branches: [[], [{ type: 'dense', units: 4 }, { type: 'batchnorm' }]] },
        ],
      },
      { backend: js, rng: new Rng(1) },
    );
    const before = model.namedBuffers();
    for (let s = 0; s < 3; s++)
      tidy(() => {
        model.forward(tensor(randomArray(new Rng(s), 24), [6, 4], 'float32', js), { training: true });
      });
    const after = model.namedBuffers();
    expect([...after.keys()]).toEqual(['0.1.1.runningMean', '0.1.1.runningVar']);
    for (const [k, t] of after) {
      expect(t.disposed, k).toBe(false);
      expect(t).toBe(before.get(k)); // the same tensor object, updated in place
    }
    expect(
      after
        .get('0.1.1.runningMean')!
        .toArray()
        .some((v) => v !== 0),
    ).toBe(true);
  });
});
