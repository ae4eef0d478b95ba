/**
 * Layer and neuron attribution (Captum's LayerIntegratedGradients, LayerGradientXActivation,
 * NeuronIntegratedGradients, NeuronGradient): layer IG sums to F(x) − F(x′) with x′'s activation at the layer the
 * baseline's; the methods agree with a float64 restatement on a hand-set network; neuron IG is plain IG of the
 * network cut at the layer with the unit as its only output; wrong options are typed errors naming them.
 */
import { describe, expect, it } from 'vitest';
import {
  type Backend,
  type ErrorCode,
  explain,
  type ExplainOptions,
  fromScores,
  fromSequential,
  gaussLegendre,
  LayerhiveError,
  nn,
  Rng,
} from '../../../src/index.js';
import { expectClose, js, wasmRelaxed } from '../helpers.js';

const values = (seed: number, n: number, lo: number, hi: number) =>
  new Rng(seed).fillUniform(new Float32Array(n), lo, hi);

/** x·W + b in float64, W [in, out] row-major as the dense layer stores it. */
function affine(x: ArrayLike<number>, W: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(b);
  for (let i = 0; i < x.length; i++) for (let o = 0; o < out.length; o++) out[o] += x[i] * W[i * out.length + o];
  return out;
}

/** dense(h) → tanh → dense(K), weights set by the test: layers `dense` (0), `tanh` (1), `dense_1` (2). */
function tanhNet(n: number, h: number, K: number) {
  const W1 = values(1, n * h, -0.9, 0.9),
    b1 = values(2, h, -0.3, 0.3),
    W2 = values(3, h * K, -1, 1),
    b2 = values(4, K, -0.3, 0.3);
  return {
    W1,
    W2,
    z: (x: ArrayLike<number>) => affine(x, W1, b1),
    /** The scores from the first layer's output z. */
    head: (z: ArrayLike<number>) => affine(Array.from(z, Math.tanh), W2, b2),
    seq(backend: Backend) {
      const m = new nn.Sequential(
        { input: [n], layers: [{ type: 'dense', units: h }, { type: 'tanh' }, { type: 'dense', units: K }] },
        { backend, rng: new Rng(0) },
      );
      m.setParams({ '0.weight': W1, '0.bias': b1, '2.weight': W2, '2.bias': b2 });
      return m;
    },
  };
}

/** A small tanh CNN: conv2d (0) → tanh (1) → conv2d_1 (2) → tanh_1 (3) → flatten (4) → dense (5). */
const cnnLayers = [
  { type: 'conv2d', filters: 3, kernel: 3, pad: 1 },
  { type: 'tanh' },
  { type: 'conv2d', filters: 2, kernel: 3, pad: 1 },
  { type: 'tanh' },
  { type: 'flatten' },
  { type: 'dense', units: 3 },
] as const;
const cnn = (backend: Backend) =>
  new nn.Sequential({ input: [1, 6, 6], layers: cnnLayers.map((l) => ({ ...l })) }, { backend, rng: new Rng(7) });
const image = values(8, 36, -1, 1);
const imageBase = values(9, 36, -0.3, 0.3);

async function failure(run: () => Promise<unknown>): Promise<LayerhiveError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof LayerhiveError) return e;
    throw new Error(`not a LayerhiveError: ${e}`);
  }
  throw new Error('no error');
}

describe('layer integrated gradients', () => {
  it('sums to F(x) − F(x′) within the quadrature, at every layer of a tanh CNN', { tags: ['invariant'] }, async () => {
    const model = cnn(js);
    const m = fromSequential(model);
    const [fx, fb] = [await m.scores(image, 1), await m.scores(imageBase, 1)];
    for (const layer of ['conv2d', 'tanh', 'conv2d_1', 3, 'dense'] as const) {
      const a = await explain(model, image, {
        method: 'layer-integrated-gradients',
        layer,
        baseline: imageBase,
        target: 2,
      });
      const idx = typeof layer === 'number' ? layer : m.layerNames!.indexOf(layer);
      expect(a.shape, String(layer)).toEqual(m.layerShapes![idx]);
      expect(a.values.length).toBe(a.shape.reduce((p, d) => p * d, 1));
      const sum = a.values.reduce((s, v) => s + v, 0);
      const dF = fx[2] - fb[2];
      expect(a.score).toBeCloseTo(fx[2], 5);
      expect(a.baselineScore).toBeCloseTo(fb[2], 5);
      // the reported delta is the residual, and at 64 Gauss–Legendre points it is float32 rounding only
      expect(Math.abs(sum - dF - a.delta!)).toBeLessThan(1e-5);
      expect(Math.abs(a.delta!), String(layer)).toBeLessThan(1e-4 * Math.abs(dF) + 1e-5);
    }
  });

  it('coarser quadrature leaves a larger residual, which delta reports exactly', { tags: ['invariant'] }, async () => {
    const model = cnn(js);
    const m = fromSequential(model);
    const dF = (await m.scores(image, 1))[0] - (await m.scores(imageBase, 1))[0];
    const coarse = await explain(model, image, {
      method: 'layer-integrated-gradients',
      layer: 'conv2d',
      baseline: imageBase,
      target: 0,
      steps: 1,
      integration: 'riemann',
    });
    const sum = coarse.values.reduce((s, v) => s + v, 0);
    expect(Math.abs(sum - dF - coarse.delta!)).toBeLessThan(1e-5);
    expect(Math.abs(coarse.delta!)).toBeGreaterThan(1e-4);
  });

  it('a batch equals each input alone', { tags: ['invariant'] }, async () => {
    const model = cnn(js);
    const xs = [image, values(10, 36, -1, 1), values(11, 36, -1, 1)];
    for (const [method, steps] of [
      ['layer-integrated-gradients', 12],
      ['layer-gradient-x-activation', undefined],
    ] as const) {
      const o = { layer: 'tanh', baseline: imageBase, steps, batchSize: 5 } as const;
      const all = await explain(model, xs, { method, ...o, target: [0, 1, 2] });
      for (const [k, x] of xs.entries()) {
        const one = await explain(model, x, { method, ...o, target: k });
        expectClose(all[k].values, one.values, 1e-6, 1e-7, `${method} ${k}`);
      }
    }
  });
});

describe('against a float64 restatement on a hand-set network', () => {
  const net = tanhNet(5, 4, 3);
  const x = values(12, 5, -1, 1),
    base = values(13, 5, -0.2, 0.2);
  const t = 1,
    steps = 16;
  for (const [name, backend] of [
    ['js', js],
    ['wasm relaxed', wasmRelaxed],
  ] as const)
    it(`layer IG, layer gradient×activation and neuron gradient (${name})`, { tags: ['hand-computed'] }, async () => {
      const model = net.seq(backend);
      const z = net.z(x),
        zb = net.z(base);
      // layer IG at dense's output z: ∂F/∂z_j = (1 − tanh²z_j)·W2[j, t] along z′ + α(z − z′)
      const { points, weights } = gaussLegendre(steps);
      const ig = new Float64Array(4);
      points.forEach((a, s) => {
        for (let j = 0; j < 4; j++) {
          const zj = zb[j] + a * (z[j] - zb[j]);
          ig[j] += weights[s] * (1 - Math.tanh(zj) ** 2) * net.W2[j * 3 + t] * (z[j] - zb[j]);
        }
      });
      const lig = await explain(model, x, {
        method: 'layer-integrated-gradients',
        layer: 'dense',
        target: t,
        baseline: base,
        steps,
      });
      expectClose(lig.values, ig, 1e-5, 1e-6, 'layer IG');
      const dF = net.head(z)[t] - net.head(zb)[t];
      expect(lig.delta).toBeCloseTo(lig.values.reduce((s, v) => s + v, 0) - dF, 5);
      // layer gradient×activation at tanh's output: tanh(z_j)·W2[j, t]
      const gxa = await explain(model, x, { method: 'layer-gradient-x-activation', layer: 1, target: t });
      expectClose(
        gxa.values,
        Array.from(z, (v, j) => Math.tanh(v) * net.W2[j * 3 + t]),
        1e-5,
        1e-6,
        'layer grad×act',
      );
      // neuron gradient of tanh unit 2: (1 − tanh²z_2)·W1[:, 2]
      const ng = await explain(model, x, { method: 'neuron-gradient', layer: 'tanh', neuron: 2 });
      expect(ng.target).toBe(-1);
      expectClose(
        ng.values,
        Array.from({ length: 5 }, (_, i) => (1 - Math.tanh(z[2]) ** 2) * net.W1[i * 4 + 2]),
        1e-5,
        1e-6,
        'neuron gradient',
      );
    });
});

describe('neuron integrated gradients', () => {
  it('equals plain IG of the network cut at the layer with the unit as its one output', {
    tags: ['invariant'],
  }, async () => {
    const model = cnn(js);
    // unit [1, 2, 3] of tanh (layer 1, [3, 6, 6]): flat index 1·36 + 2·6 + 3 = 51
    const unit = 51;
    const cut = new nn.Sequential(
      {
        input: [1, 6, 6],
        layers: [{ ...cnnLayers[0] }, { type: 'tanh' }, { type: 'flatten' }, { type: 'dense', units: 1 }],
      },
      { backend: js, rng: new Rng(0) },
    );
    const w = new Float32Array(108);
    w[unit] = 1;
    const full = model.namedParams();
    cut.setParams({
      '0.weight': (await full.get('0.weight')!.data()) as Float32Array,
      '0.bias': (await full.get('0.bias')!.data()) as Float32Array,
      '3.weight': w,
      '3.bias': new Float32Array(1),
    });
    const o = { baseline: imageBase, steps: 20 } as const;
    const ig = await explain(cut, image, { method: 'integrated-gradients', target: 0, ...o });
    for (const neuron of [unit, [1, 2, 3]]) {
      const nig = await explain(model, image, { method: 'neuron-integrated-gradients', layer: 'tanh', neuron, ...o });
      expect(nig.shape).toEqual([1, 6, 6]);
      expectClose(nig.values, ig.values, 1e-6, 1e-7, `neuron ${neuron}`);
      expect(nig.score).toBeCloseTo(ig.score!, 6);
      expect(nig.baselineScore).toBeCloseTo(ig.baselineScore!, 6);
      expect(nig.delta).toBeCloseTo(ig.delta!, 6);
    }
    const ng = await explain(model, image, { method: 'neuron-gradient', layer: 1, neuron: [1, 2, 3] });
    const g = await fromSequential(cut).gradients!(image, 1, Int32Array.of(0));
    expectClose(ng.values, g, 1e-6, 1e-7, 'neuron gradient');
  });
});

describe('options of the layer and neuron methods', () => {
  const cases: [string, Partial<ExplainOptions>, string, ErrorCode][] = [
    ['no layer', { method: 'layer-integrated-gradients' }, 'layer', 'INVALID_ARGUMENT'],
    ['no layer', { method: 'neuron-gradient', neuron: 0 }, 'layer', 'INVALID_ARGUMENT'],
    ['unknown layer', { method: 'layer-gradient-x-activation', layer: 'conv9' }, 'layer', 'INVALID_ARGUMENT'],
    ['no neuron', { method: 'neuron-integrated-gradients', layer: 'tanh' }, 'neuron', 'INVALID_ARGUMENT'],
    ['flat out of range', { method: 'neuron-gradient', layer: 'tanh', neuron: 108 }, 'neuron', 'INVALID_ARGUMENT'],
    ['fraction', { method: 'neuron-gradient', layer: 'tanh', neuron: 1.5 }, 'neuron', 'INVALID_ARGUMENT'],
    ['wrong arity', { method: 'neuron-gradient', layer: 'tanh', neuron: [1, 2] }, 'neuron', 'SHAPE_MISMATCH'],
    ['axis out of range', { method: 'neuron-gradient', layer: 1, neuron: [3, 0, 0] }, 'neuron', 'INVALID_ARGUMENT'],
    ['count it lacks', { method: 'layer-gradient-x-activation', layer: 0, steps: 8 }, 'steps', 'INVALID_ARGUMENT'],
    ['bad steps', { method: 'layer-integrated-gradients', layer: 0, steps: 0 }, 'steps', 'INVALID_ARGUMENT'],
  ];
  for (const [what, o, option, code] of cases)
    it(`${o.method}: ${what} is a ${code} naming ${option}`, { tags: ['behaviour'] }, async () => {
      const e = await failure(() => explain(cnn(js), image, o as ExplainOptions));
      expect(e.code).toBe(code);
      expect(e.message).toContain(option);
    });

  it("Captum's neuron_selector points to neuron; a model without layers is refused", {
    tags: ['behaviour'],
  }, async () => {
    const e = await failure(() =>
      explain(cnn(js), image, {
        method: 'neuron-gradient',
        layer: 1,
        neuron_selector: 3,
      } as unknown as ExplainOptions),
    );
    expect(e.hint).toContain('neuron');
    const scoresOnly = fromScores([4], 2, async (x, b) => new Float32Array(2 * b).fill(x[0]));
    const f = await failure(() =>
      explain(scoresOnly, new Float32Array(4), { method: 'neuron-gradient', layer: 0, neuron: 0 }),
    );
    expect(f.code).toBe('INVALID_ARGUMENT');
    expect(f.message).toContain('network of layers');
  });
});
