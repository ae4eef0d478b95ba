/**
 * README (Explanations): a model known only by its predictions — an ONNX session among them — is explained through
 * `fromScores` with the perturbation methods. Here the session is onnxruntime-node running an exported CNN, so the
 * scores come from outside software: every perturbation method must give what it gives on the same network in
 * layerhive (the two runtimes agree to float rounding), and the gradient methods must be refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  explain,
  exportOnnx,
  fromScores,
  fromSequential,
  LayerhiveError,
  nn,
  Rng,
  type Explainable,
  type MethodName,
} from '../../../src/index.js';
import type { LayerSpec } from '../../../src/nn/layer.js';
import { randomArray, wasmRelaxed } from '../helpers.js';

const SHAPE = [1, 12, 12];
const layers: LayerSpec[] = [
  { type: 'conv2d', filters: 4, kernel: 3, pad: 1 },
  { type: 'tanh' },
  { type: 'maxpool2d', kernel: 2 },
  { type: 'flatten' },
  { type: 'dense', units: 5 },
];

let session: ort.InferenceSession, onnx: Explainable, ours: Explainable;
let sessionCalls = 0;
const model = new nn.Sequential({ input: SHAPE, layers }, { backend: wasmRelaxed, rng: new Rng(7) });
const x = randomArray(new Rng(11), 144, 0, 1);
// four 6×6 quadrants: few enough features for KernelSHAP to enumerate every coalition
const quadrants = Int32Array.from({ length: 144 }, (_, i) => (Math.floor(i / 12) < 6 ? 0 : 2) + (i % 12 < 6 ? 0 : 1));

beforeAll(async () => {
  session = await ort.InferenceSession.create(await exportOnnx(model));
  onnx = fromScores(SHAPE, 5, async (input, batch) => {
    sessionCalls++;
    const out = await session.run({ input: new ort.Tensor('float32', input, [batch, ...SHAPE]) });
    return out.logits.data as Float32Array;
  });
  ours = fromSequential(model);
});
afterAll(async () => {
  await session?.release();
});

/** The session's score for class `t` of one input, straight from onnxruntime. */
async function sessionScore(input: Float32Array, t: number): Promise<number> {
  const out = await session.run({ input: new ort.Tensor('float32', input, [1, ...SHAPE]) });
  return (out.logits.data as Float32Array)[t];
}

describe('explaining an onnxruntime session through fromScores', () => {
  it.each([
    ['occlusion', { window: [3, 3] as [number, number], stride: [2, 2] as [number, number] }],
    ['feature-ablation', { featureMask: quadrants }],
    ['kernel-shap', { featureMask: quadrants }],
    ['lime', { samples: 300 }],
    ['rise', { samples: 300 }],
  ] as const)(
    '%s gives what it gives on the same network in layerhive (the scores differ by float rounding only)',
    { tags: ['outside'] },
    async (method, extra) => {
      const o = { method: method as MethodName, target: 2, seed: 5, baseline: 0, ...extra };
      const before = sessionCalls;
      const a = await explain(onnx, x, o);
      const b = await explain(ours, x, o);
      expect(sessionCalls, 'the attribution came from the session').toBeGreaterThan(before);
      expect(a.shape).toEqual(SHAPE);
      let scale = 0,
        worst = 0;
      for (let i = 0; i < b.values.length; i++) {
        scale = Math.max(scale, Math.abs(b.values[i]));
        worst = Math.max(worst, Math.abs(a.values[i] - b.values[i]));
      }
      expect(scale, 'a non-trivial attribution').toBeGreaterThan(1e-3);
      // the runtimes' logits differ by ~1e-6 (float32 sums in another order); the methods are linear or
      // least-squares in the scores, so the attributions may differ by a small multiple of that
      expect(worst).toBeLessThan(1e-4 * Math.max(1, scale));
    },
  );

  it('KernelSHAP on the session is exact and efficient: Σφ = F(x) − F(0) with F from onnxruntime', {
    tags: ['invariant'],
  }, async () => {
    const a = await explain(onnx, x, { method: 'kernel-shap', target: 2, featureMask: quadrants, baseline: 0 });
    const phi = [0, 1, 2, 3].map((g) => a.values[quadrants.indexOf(g)]);
    const fx = await sessionScore(x, 2),
      f0 = await sessionScore(new Float32Array(144), 2);
    expect(Math.abs(phi.reduce((s, v) => s + v, 0) - (fx - f0))).toBeLessThan(1e-4);
    // and each φ is the Shapley value: the average over orders of the quadrant's marginal contribution
    const value = async (coalition: number) => {
      const v = x.map((p, i) => ((coalition >> quadrants[i]) & 1 ? p : 0));
      return sessionScore(v, 2);
    };
    const f = await Promise.all(Array.from({ length: 16 }, (_, c) => value(c)));
    const fact = [1, 1, 2, 6, 24];
    for (let g = 0; g < 4; g++) {
      let shapley = 0;
      for (let c = 0; c < 16; c++) {
        if ((c >> g) & 1) continue;
        let size = 0;
        for (let k = 0; k < 4; k++) size += (c >> k) & 1;
        shapley += ((fact[size] * fact[3 - size]) / fact[4]) * (f[c | (1 << g)] - f[c]);
      }
      expect(phi[g]).toBeCloseTo(shapley, 4);
    }
  });

  it.each(['saliency', 'integrated-gradients', 'deeplift', 'grad-cam'] as const)(
    '%s is refused with a typed error: the session has no gradients',
    { tags: ['behaviour'] },
    async (method) => {
      const e = await explain(onnx, x, { method, target: 2 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(LayerhiveError);
      expect((e as LayerhiveError).code).toBe('INVALID_ARGUMENT');
    },
  );
});
