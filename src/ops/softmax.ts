import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { checkDType, checkRank } from './check.js';
import { fill } from './creation.js';
import { mean } from './reduce.js';
import { tidy } from '../core/scope.js';

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  checkDType('softmax', 'input', x, 'float32');
  return runKernel('Softmax', [x])[0];
}

export function logSoftmax(x: Tensor): Tensor {
  checkDType('logSoftmax', 'input', x, 'float32');
  return runKernel('LogSoftmax', [x])[0];
}

function checkLabels(op: string, logits: Tensor, labels: Tensor): void {
  checkRank(op, 'logits', logits, 2);
  checkDType(op, 'logits', logits, 'float32');
  checkDType(op, 'labels', labels, 'int32');
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: labels ${fmt(labels.shape)} do not match logits ${fmt(logits.shape)}`,
      'pass one int32 class index per row of logits',
    );
  }
  if (labels.backend.asyncOnly) return; // values live on the device: the kernels clamp instead
  const L = labels.dataSync(),
    C = logits.shape[1];
  for (let i = 0; i < L.length; i++) {
    if (L[i] < 0 || L[i] >= C) {
      fail(
        'INVALID_ARGUMENT',
        `${op}: label ${L[i]} at row ${i} is outside [0, ${C})`,
        `labels must be class indices below ${C}`,
      );
    }
  }
}

/** Per-sample −log softmax(logits)[label], or their mean. */
export function crossEntropy(logits: Tensor, labels: Tensor, reduction: 'mean' | 'none' = 'mean'): Tensor {
  checkLabels('crossEntropy', logits, labels);
  return tidy(() => {
    const perSample = runKernel('CrossEntropy', [logits, labels])[0];
    return reduction === 'mean' ? mean(perSample) : perSample;
  });
}

/** d(mean cross-entropy)/d logits, or with `dLoss` [B] the gradient for per-sample weights. */
export function crossEntropyGrad(logits: Tensor, labels: Tensor, dLoss?: Tensor): Tensor {
  checkLabels('crossEntropyGrad', logits, labels);
  return tidy(() => {
    const g = dLoss ?? fill([logits.shape[0]], 1 / logits.shape[0], 'float32', logits.backend);
    return runKernel('CrossEntropyGrad', [logits, labels, g])[0];
  });
}
