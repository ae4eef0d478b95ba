// @module-tag invariant
/** Finite-difference checks of every training loss's gradient (float64 sums over float32 tensors, js backend). */
import { describe, expect, it } from 'vitest';
import { Rng, tensor, tidy, type Tensor } from '../../../src/index.js';
import {
  crossEntropyLoss,
  denoisingLoss,
  l1Loss,
  l2Loss,
  weightedSquaredError,
  type LossAndGrad,
} from '../../../src/learn/losses.js';
import { js, randomArray } from '../helpers.js';

function fdCheck(shape: number[], f: (t: Tensor) => LossAndGrad, seed: number, eps = 1e-3): void {
  const rng = new Rng(seed);
  const data = randomArray(
    rng,
    shape.reduce((p, d) => p * d, 1),
    -2,
    2,
  );
  const analytic = tidy(() => f(tensor(data, shape, 'float32', js)).grad.dataSync());
  const at = (v: Float32Array) => tidy(() => f(tensor(v, shape, 'float32', js)).loss.dataSync()[0]);
  for (let i = 0; i < data.length; i++) {
    const up = Float32Array.from(data),
      down = Float32Array.from(data);
    up[i] += eps;
    down[i] -= eps;
    const numeric = (at(up) - at(down)) / (2 * eps);
    expect(Math.abs(analytic[i] - numeric), `element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`).toBeLessThan(
      2e-3 + 1e-2 * Math.abs(numeric),
    );
  }
}

describe('loss gradients match finite differences', () => {
  const labels = () => tensor(Int32Array.from([2, 0, 4]), [3], 'int32', js);
  it('cross-entropy', () => fdCheck([3, 5], (t) => crossEntropyLoss(t, labels()), 1));
  it('ℓ2 local loss', () =>
    fdCheck([3, 4], (t) => l2Loss(t, tensor(randomArray(new Rng(9), 12), [3, 4], 'float32', js)), 2));
  it('ℓ1 local loss (away from the kinks)', () =>
    fdCheck([3, 4], (t) => l1Loss(t, tensor(new Float32Array(12).fill(5), [3, 4], 'float32', js)), 3));
  it('NoProp denoising loss through softmax and a learned embedding', () => {
    const W = tensor(randomArray(new Rng(4), 5 * 3), [5, 3], 'float32', js);
    const u = tensor(randomArray(new Rng(5), 3 * 3), [3, 3], 'float32', js);
    fdCheck([3, 5], (t) => denoisingLoss(t, W, u, 2.5), 6);
  });
  it('NoProp denoising loss with per-sample weights', () => {
    const W = tensor(randomArray(new Rng(4), 5 * 3), [5, 3], 'float32', js);
    const u = tensor(randomArray(new Rng(5), 3 * 3), [3, 3], 'float32', js);
    const w = tensor([0.1, 3, 0.7], [3, 1], 'float32', js);
    fdCheck([3, 5], (t) => denoisingLoss(t, W, u, w), 8);
  });
  it('weighted squared error (flow matching) with per-sample weights', () => {
    const target = tensor(randomArray(new Rng(10), 12), [3, 4], 'float32', js),
      w = tensor([1, 0.5, 2], [3, 1], 'float32', js);
    fdCheck([3, 4], (t) => weightedSquaredError(t, target, w), 11);
  });
  it('NoProp denoising loss with a one-hot embedding', () => {
    const eye = new Float32Array(16);
    for (let i = 0; i < 4; i++) eye[i * 5] = 1;
    const W = tensor(eye, [4, 4], 'float32', js),
      u = tensor(Float32Array.from([0, 1, 0, 0, 1, 0, 0, 0]), [2, 4], 'float32', js);
    fdCheck([2, 4], (t) => denoisingLoss(t, W, u, 0.7), 7);
  });
});
