/**
 * Guided backprop's convention (Springenberg et al.; Captum's GuidedBackprop overrides ReLUs only): at a ReLU only
 * positive gradients pass, other activations pass the plain gradient unless `guidedActivations: 'all'`. Each case
 * is a dense → activation → dense network whose input gradient is restated here in float64.
 */
import { describe, expect, it } from 'vitest';
import { explain, LayerhiveError, nn, Rng } from '../../../src/index.js';
import { expectClose, js } from '../helpers.js';

const n = 6,
  h = 5,
  K = 3;
const W1 = new Rng(51).fillUniform(new Float32Array(n * h), -1, 1),
  b1 = new Rng(52).fillUniform(new Float32Array(h), -0.3, 0.3),
  W2 = new Rng(53).fillUniform(new Float32Array(h * K), -1, 1),
  b2 = new Rng(54).fillUniform(new Float32Array(K), -0.3, 0.3);
const x = new Rng(55).fillUniform(new Float32Array(n), -1, 1);

function net(act: 'relu' | 'tanh') {
  const m = new nn.Sequential(
    { input: [n], layers: [{ type: 'dense', units: h }, { type: act }, { type: 'dense', units: K }] },
    { backend: js, rng: new Rng(0) },
  );
  m.setParams({ '0.weight': W1, '0.bias': b1, '2.weight': W2, '2.bias': b2 });
  return m;
}

/** W1·(g(W2[:, t]) ⊙ slope(z)) with z = x·W1 + b1: the input gradient through one activation. */
function restated(t: number, slope: (z: number) => number, g: (d: number) => number): Float64Array {
  const z = Float64Array.from(b1);
  for (let i = 0; i < n; i++) for (let j = 0; j < h; j++) z[j] += x[i] * W1[i * h + j];
  const d = Float64Array.from(z, (zj, j) => g(W2[j * K + t]) * slope(zj));
  return Float64Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < h; j++) s += W1[i * h + j] * d[j];
    return s;
  });
}
const plain = (d: number) => d,
  positive = (d: number) => Math.max(d, 0);
const tanhSlope = (z: number) => 1 - Math.tanh(z) ** 2,
  reluSlope = (z: number) => (z > 0 ? 1 : 0);

describe('guided backprop: ReLUs only by default (Captum), every activation on request', () => {
  it('on a ReLU network only positive gradients pass the ReLU', { tags: ['hand-computed'] }, async () => {
    const t = 1;
    // the rule matters here: some of W2[:, t] are negative where the ReLU is open
    expect(Array.from({ length: h }, (_, j) => W2[j * K + t]).some((v) => v < 0)).toBe(true);
    const a = await explain(net('relu'), x, { method: 'guided-backprop', target: t });
    expectClose(a.values, restated(t, reluSlope, positive), 1e-6, 1e-7, 'guided, ReLU');
    const g = await explain(net('relu'), x, { method: 'saliency', target: t });
    expect(Math.max(...g.values.map((v, i) => Math.abs(v - Math.abs(a.values[i]))))).toBeGreaterThan(1e-3);
  });

  it("a tanh passes the plain gradient by default and the positive-only one with guidedActivations: 'all'", {
    tags: ['hand-computed'],
  }, async () => {
    const t = 1;
    const byDefault = await explain(net('tanh'), x, { method: 'guided-backprop', target: t });
    expectClose(byDefault.values, restated(t, tanhSlope, plain), 1e-6, 1e-7, 'guided, tanh, default');
    const all = await explain(net('tanh'), x, { method: 'guided-backprop', target: t, guidedActivations: 'all' });
    expectClose(all.values, restated(t, tanhSlope, positive), 1e-6, 1e-7, "guided, tanh, 'all'");
    expect(Math.max(...all.values.map((v, i) => Math.abs(v - byDefault.values[i])))).toBeGreaterThan(1e-3);
  });

  it('an unknown guidedActivations is a typed error naming the option', { tags: ['behaviour'] }, async () => {
    const o = { method: 'guided-backprop', target: 0, guidedActivations: 'tanh' } as never;
    const e = await explain(net('tanh'), x, o).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(LayerhiveError);
    expect((e as Error).message).toMatch(/guidedActivations "tanh"/);
  });
});
