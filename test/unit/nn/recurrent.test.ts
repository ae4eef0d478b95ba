/**
 * The recurrent layers (Elman rnn, GRU): forward against a float64 restatement of their equations and a GRU case
 * worked by hand in PyTorch's gate order; backprop through time against central differences of that float64
 * restatement; the wasm backends against js; the error paths; no tensor left behind.
 */
import { describe, expect, it } from 'vitest';
import { LayerhiveError, liveTensors, nn, Rng, tensor, tidy, type Backend } from '../../../src/index.js';
import { accelerated, expectClose, js, randomArray } from '../helpers.js';
import { sequence, type RecurrentParams } from './recurrent-reference.js';

type Kind = 'rnn' | 'gru';

function build(kind: Kind, T: number, F: number, H: number, returnSequence: boolean, backend: Backend = js) {
  return new nn.Sequential(
    { input: [T, F], layers: [{ type: kind, units: H, returnSequence }] },
    { backend, rng: new Rng(3) },
  );
}

function paramsOf(model: nn.Sequential): RecurrentParams {
  const p = model.namedParams();
  const get = (k: string) => Float64Array.from(p.get(`0.${k}`)!.dataSync());
  return {
    weight: get('weight'),
    recurrentWeight: get('recurrentWeight'),
    bias: get('bias'),
    recurrentBias: p.has('0.recurrentBias') ? get('recurrentBias') : undefined,
  };
}

/** The reference output, flattened like the layer's: [B, H] or [B, T, H]. */
function reference(
  kind: Kind,
  p: RecurrentParams,
  H: number,
  x: ArrayLike<number>,
  B: number,
  T: number,
  F: number,
  returnSequence: boolean,
) {
  const hs = sequence(kind, p, H, x, B, T, F);
  return hs.flatMap((s) => (returnSequence ? s.flat() : s[T - 1]));
}

describe.each(['rnn', 'gru'] as const)('%s forward', { tags: ['hand-computed'] }, (kind) => {
  for (const returnSequence of [false, true]) {
    it(`matches the float64 restatement (${returnSequence ? 'sequence' : 'last state'})`, () => {
      const [B, T, F, H] = [3, 5, 4, 6];
      const model = build(kind, T, F, H, returnSequence);
      const xv = randomArray(new Rng(9), B * T * F, -2, 2);
      const y = tidy(() => model.predict(tensor(xv, [B, T, F], 'float32', js)).dataSync());
      expect(model.outputShape).toEqual(returnSequence ? [T, H] : [H]);
      expectClose(y, reference(kind, paramsOf(model), H, xv, B, T, F, returnSequence), 1e-5, 1e-6, kind);
    });
  }
});

describe('gru follows PyTorch: gates r, z, n, the reset gate after the recurrent product', {
  tags: ['hand-computed'],
}, () => {
  it('a case worked by hand', () => {
    // H = F = 1, T = 2; columns r, z, n. Step 0 (h = 0): r = σ(0.5 + 0.1 + 0) = 0.645656,
    // z = σ(−0.5 + 0.2 + 0.1) = 0.450166, n = tanh(1 + 0.3 + r·(0 + 0.5)) = 0.925033, h = (1 − z)·n = 0.508615.
    // Step 1 (x = −1): r = σ(−0.5 + 0.1 + 0.2h) = 0.425979, z = σ(0.5 + 0.2 + 0.3h + 0.1) = 0.721635,
    // n = tanh(−1 + 0.3 + r·(−0.4h + 0.5)) = −0.518053, h = (1 − z)·n + z·h = 0.222826.
    // r and z swapped would give −0.105107; the reset gate before the product (ONNX's default) 0.298015.
    const model = build('gru', 2, 1, 1, true);
    model.setParams({
      '0.weight': [0.5, -0.5, 1.0],
      '0.recurrentWeight': [0.2, 0.3, -0.4],
      '0.bias': [0.1, 0.2, 0.3],
      '0.recurrentBias': [0.0, 0.1, 0.5],
    });
    const y = tidy(() => model.predict(tensor([1, -1], [1, 2, 1], 'float32', js)).dataSync());
    expectClose(y, [0.5086148274431727, 0.22282618173456337], 1e-6, 1e-7, 'h');
  });
});

/**
 * The analytic gradients of L = Σ y·r against central differences (ε = 1e-6) of the float64 restatement, at every
 * input and parameter coordinate: the float32 layer agrees to 2e-4 relative + 2e-5 absolute.
 */
function bpttCheck(kind: Kind, returnSequence: boolean) {
  const [B, T, F, H] = [2, 4, 3, 3];
  const model = build(kind, T, F, H, returnSequence);
  const rng = new Rng(11);
  const xv = Float64Array.from(randomArray(rng, B * T * F, -1.5, 1.5));
  const outSize = B * (returnSequence ? T * H : H);
  const r = Float64Array.from(randomArray(rng, outSize));
  const p = paramsOf(model);
  const L = (pp: RecurrentParams, x: Float64Array) =>
    reference(kind, pp, H, x, B, T, F, returnSequence).reduce((s, v, i) => s + v * r[i], 0);
  const eps = 1e-6;
  const numeric = (values: Float64Array, f: () => number) =>
    Array.from(values, (v, i) => {
      values[i] = v + eps;
      const up = f();
      values[i] = v - eps;
      const down = f();
      values[i] = v;
      return (up - down) / (2 * eps);
    });
  const g = tidy(() => {
    const x = tensor(Float32Array.from(xv), [B, T, F], 'float32', js);
    const { y, caches } = model.forward(x, { training: true });
    const back = model.backwardWithCache(tensor(Float32Array.from(r), [...y.shape], 'float32', js), caches);
    return {
      dx: back.dx!.dataSync(),
      grads: Object.fromEntries(Object.entries(back.grads).map(([k, t]) => [k, t.dataSync()])),
    };
  });
  expectClose(
    g.dx,
    numeric(xv, () => L(p, xv)),
    2e-4,
    2e-5,
    'dx',
  );
  expect(Object.keys(g.grads).sort()).toEqual([...model.namedParams().keys()].sort());
  for (const k of Object.keys(p) as (keyof RecurrentParams)[]) {
    const values = p[k] as Float64Array | undefined;
    if (!values) continue;
    expectClose(
      g.grads[`0.${k}`],
      numeric(values, () => L(p, xv)),
      2e-4,
      2e-5,
      k,
    );
  }
}

describe.each(['rnn', 'gru'] as const)('%s backprop through time', { tags: ['invariant'] }, (kind) => {
  it('matches central differences, last-state output', () => bpttCheck(kind, false));
  it('matches central differences, sequence output', () => bpttCheck(kind, true));
  it('frees every intermediate it made', () => {
    const model = build(kind, 4, 3, 5, true);
    const x = tensor(randomArray(new Rng(2), 2 * 4 * 3), [2, 4, 3], 'float32', js);
    const before = liveTensors();
    tidy(() => {
      const { y, caches } = model.forward(x, { training: true });
      model.backwardWithCache(y, caches);
    });
    expect(liveTensors()).toBe(before);
  });
});

describe.each(accelerated.map((b) => [b.flavour, b] as const))(
  '%s agrees with js',
  { tags: ['js-oracle'] },
  (_, backend) => {
    for (const kind of ['rnn', 'gru'] as const)
      it(`${kind}: forward and BPTT (sequence output)`, () => {
        const [B, T, F, H] = [5, 7, 9, 11];
        const run = (b: Backend) => {
          const model = build(kind, T, F, H, true, b);
          const rng = new Rng(5);
          const x = tensor(randomArray(rng, B * T * F, -2, 2), [B, T, F], 'float32', b);
          return tidy(() => {
            const { y, caches } = model.forward(x, { training: true });
            const dy = tensor(randomArray(rng, y.size), [...y.shape], 'float32', b);
            const g = model.backwardWithCache(dy, caches);
            return {
              y: y.dataSync(),
              dx: g.dx!.dataSync(),
              grads: Object.fromEntries(Object.entries(g.grads).map(([k, t]) => [k, t.dataSync()])),
            };
          });
        };
        const want = run(js),
          got = run(backend);
        expectClose(got.y, want.y, 1e-5, 1e-5, 'y');
        expectClose(got.dx, want.dx, 1e-4, 1e-5, 'dx');
        for (const k of Object.keys(want.grads)) expectClose(got.grads[k], want.grads[k], 1e-4, 1e-5, k);
      });
  },
);

describe('recurrent layers refuse', { tags: ['behaviour'] }, () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof LayerhiveError ? e.code : 'other';
    }
    return 'none';
  };
  it('an input that is not [steps, features] (an image [1, 28, 28] without its reshape)', () => {
    expect(code(() => build('rnn', 28, 28, 4, false))).toBe('none');
    const img = () =>
      new nn.Sequential({ input: [1, 28, 28], layers: [{ type: 'gru', units: 4 }] }, { backend: js, rng: new Rng(1) });
    expect(code(img)).toBe('SPEC_INVALID');
    expect(() => img()).toThrow(/reshape/);
    const flat = () =>
      new nn.Sequential({ input: [28], layers: [{ type: 'rnn', units: 4 }] }, { backend: js, rng: new Rng(1) });
    expect(code(flat)).toBe('SPEC_INVALID');
  });
  it('a batch of another rank or length than it was built for', () => {
    const layer = build('rnn', 3, 2, 4, false).layers[0];
    expect(
      code(() => tidy(() => layer.forward(tensor(new Float32Array(6), [3, 2], 'float32', js), { training: false }))),
    ).toBe('SHAPE_MISMATCH');
    expect(
      code(() => tidy(() => layer.forward(tensor(new Float32Array(8), [1, 4, 2], 'float32', js), { training: false }))),
    ).toBe('SHAPE_MISMATCH');
  });
  it('units that are not a positive integer', () => {
    expect(code(() => build('gru', 3, 2, 0, false))).toBe('SPEC_INVALID');
    expect(code(() => build('rnn', 3, 2, 2.5, false))).toBe('SPEC_INVALID');
  });
});
