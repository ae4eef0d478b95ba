import type { Tensor } from '../core/tensor.js';
import {
  abs,
  crossEntropy,
  crossEntropyGrad,
  div,
  matmul,
  mul,
  sign,
  softmax,
  square,
  sub,
  sum,
} from '../ops/index.js';

/**
 * A loss value and its gradient with respect to the tensor it was computed from. The value is a scalar
 * tensor on the same backend, so a step never waits for the device: read it with `await loss.data()`.
 */
export interface LossAndGrad {
  loss: Tensor;
  grad: Tensor;
}

/** Mean cross-entropy of logits [B, C] against int32 labels; gradient to the logits. */
export function crossEntropyLoss(logits: Tensor, labels: Tensor): LossAndGrad {
  return { loss: crossEntropy(logits, labels), grad: crossEntropyGrad(logits, labels) };
}

/** (1/2B)·Σ‖out − target‖², gradient (out − target)/B. */
export function l2Loss(out: Tensor, target: Tensor): LossAndGrad {
  const B = out.shape[0],
    diff = sub(out, target);
  return { loss: mul(sum(square(diff)), 0.5 / B), grad: div(diff, B) };
}

/** (1/B)·Σ|out − target|, gradient sign(out − target)/B. */
export function l1Loss(out: Tensor, target: Tensor): LossAndGrad {
  const B = out.shape[0],
    diff = sub(out, target);
  return { loss: div(sum(abs(diff)), B), grad: div(sign(diff), B) };
}

/**
 * (1/B)·Σ_i w_i‖pred_i − target_i‖² with one weight for all rows or a column [B, 1] of per-row weights;
 * gradient to pred.
 */
export function weightedSquaredError(pred: Tensor, target: Tensor, weight: number | Tensor): LossAndGrad {
  const B = pred.shape[0],
    diff = sub(pred, target);
  const wd = mul(diff, weight);
  return { loss: div(sum(mul(wd, diff)), B), grad: mul(wd, 2 / B) };
}

/**
 * NoProp's denoising term for block logits [B, C]: û = softmax(logits)·W, loss = (1/B)·Σ w‖û − u‖²,
 * gradient to the logits through the embedding and the softmax Jacobian: dl = p ⊙ (dp − Σ p·dp).
 */
export function denoisingLoss(logits: Tensor, W: Tensor, u: Tensor, weight: number | Tensor): LossAndGrad {
  const p = softmax(logits);
  const { loss, grad } = weightedSquaredError(matmul(p, W), u, weight);
  const dp = matmul(grad, W, { transposeB: true });
  return { loss, grad: mul(p, sub(dp, sum(mul(p, dp), -1, true))) };
}
