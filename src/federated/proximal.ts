import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { sub, tensor } from '../ops/index.js';
import type { LearningRule } from '../learn/rule.js';

/**
 * FedProx's proximal term μ/2·‖w − w_global‖² as a decoupled step: after each of the rule's own optimizer steps,
 * every trainable parameter moves w ← w − lr·μ·(w − w_global), lr being the step's learning rate. For plain SGD
 * this is exactly the gradient term μ(w − w_global) added to each gradient; for momentum or Adam it is the
 * decoupled form (as AdamW decouples weight decay). `w_global` is the rule's parameters when this is called (the
 * global arrays just loaded). Returns the wrapped rule, used for one local training, and `release` to free the
 * copies of the global weights. The rule itself is not changed: only the returned object adds the step.
 */
export function withProximal(rule: LearningRule, mu: number): { rule: LearningRule; release: () => void } {
  const global = new Map<string, Tensor>();
  for (const [name, p] of rule.params())
    global.set(name, tensor(Float32Array.from(p.dataSync() as Float32Array), [...p.shape], 'float32', p.backend));
  let lr = 0;
  const proximalStep = () => {
    for (const [name, p] of rule.params()) {
      const g = global.get(name);
      if (!g) continue;
      const diff = sub(p, g);
      runKernel('OptimizerStep', [p, diff], { kind: 'sgd', lr: lr * mu, momentum: 0, weightDecay: 0 });
      diff.dispose();
    }
  };
  const wrapped = new Proxy(rule, {
    get(target, key) {
      if (key === 'setLr')
        return (x: number) => {
          lr = x;
          target.setLr(x);
        };
      if (key === 'trainStep')
        return (x: Tensor, y: Tensor) => {
          const r = target.trainStep(x, y);
          proximalStep();
          return r;
        };
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return {
    rule: wrapped,
    release: () => {
      for (const t of global.values()) t.dispose();
      global.clear();
    },
  };
}
