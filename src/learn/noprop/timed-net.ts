import type { Tensor } from '../../core/tensor.js';
import type { Backend } from '../../backend/backend.js';
import { Rng } from '../../core/rng.js';
import { concat } from '../../ops/index.js';
import type { Cache } from '../../nn/layer.js';
import type { Optimizer } from '../optim/index.js';
import { Block } from './block.js';
import { blockSpec, type BlockKind } from './block-specs.js';
import { timeEmbedding, TIME_EMBED_DIM } from './time.js';

/**
 * The single network of the continuous-time variants (CT, FM): a NoProp block whose label path takes the
 * noisy embedding joined with a sinusoidal embedding of t, with its own optimizer and random stream.
 */
export class TimedNet {
  readonly net: Block;
  readonly optimizer: Optimizer;
  readonly rng: Rng;

  constructor(
    kind: BlockKind,
    outputs: number,
    inputShape: number[],
    embedDim: number,
    backend: Backend,
    makeOptimizer: () => Optimizer,
    seed: number,
  ) {
    this.net = new Block(
      blockSpec(kind, outputs),
      inputShape,
      embedDim + TIME_EMBED_DIM,
      backend,
      Rng.stream(seed, 'noprop/net/init'),
    );
    this.optimizer = makeOptimizer();
    this.rng = Rng.stream(seed, 'noprop/net/train');
  }

  forward(x: Tensor, z: Tensor, ts: Float32Array, training: boolean): { logits: Tensor; cache: Cache } {
    return this.net.forward(x, concat([z, timeEmbedding(ts, x.backend)], 1), { training, rng: this.rng });
  }

  /** One optimizer step from the gradient of the loss with respect to the network's output. */
  learn(dOut: Tensor, cache: Cache): void {
    this.optimizer.step(this.net.namedParams(), this.net.backward(dOut, cache));
  }

  asNetwork() {
    return { prefix: 'net', owner: this.net, optimizer: this.optimizer, rng: this.rng };
  }
}
