import type { Tensor } from '../../core/tensor.js';
import type { Backend } from '../../backend/backend.js';
import { Rng } from '../../core/rng.js';
import { tidy } from '../../core/scope.js';
import {
  add,
  assign,
  div,
  gather,
  mul,
  randomNormal,
  scatterAdd,
  square,
  sum,
  tensor,
  transpose,
} from '../../ops/index.js';
import { Sequential } from '../../nn/sequential.js';
import type { Optimizer } from '../optim/index.js';
import type { LearningRule, ParamGroup, RuleName, StepResult } from '../rule.js';
import { fail } from '../../core/errors.js';
import { loadGroupState, saveGroupState, type GroupState } from '../group-state.js';
import { crossEntropyLoss } from '../losses.js';
import type { IndependentGroups } from '../parallelism.js';
import { makeEmbedding, type EmbeddingKind } from './embedding.js';
import { checkBlockKind, type BlockKind } from './block-specs.js';

export interface NoPropCommonOptions {
  inputShape: number[];
  classes: number;
  block?: BlockKind;
  embedding?: EmbeddingKind;
  embedDim?: number;
  /** For the 'prototype' embedding: classes × pixels values (see classPrototypes). */
  prototypes?: ArrayLike<number>;
  seed: number;
  /**
   * How the inference noise z_0 is seeded, the one draw of a NoProp rule that checkpoints do not store: 'named'
   * (default) from `Rng.stream(seed, 'noprop/inference')`; 'legacy' from `new Rng(seed + 7)`, which rules built
   * before named streams used, so that their checkpoints predict what they always did (see `RuleConfig.streams`).
   */
  streams?: 'named' | 'legacy';
}

/** Something with named parameters and buffers (a block, or the CT/FM network). */
export interface ParamOwner {
  namedParams(): Map<string, Tensor>;
  namedBuffers(): Map<string, Tensor>;
}

/**
 * What the three NoProp variants share: the label embedding W [classes, d], the classifier head on the
 * clean end of the chain (trained by cross-entropy on z ~ q(z | y); a learned embedding learns from it and
 * the KL term), the bookkeeping of parameters, optimizers and random streams.
 */
export abstract class NoPropBase implements LearningRule {
  abstract readonly name: RuleName;
  readonly backend: Backend;
  readonly head: Sequential;
  /** The label embedding W [classes, d] (read it; train it only through the rule). */
  readonly embedding: Tensor;
  protected readonly embeddingTrainable: boolean;
  private headOptimizer: Optimizer;
  private headRng: Rng;
  protected readonly seed: number;
  private readonly legacyInference: boolean;

  /**
   * `cleanAlphaBar`: the signal share of z at the clean end, where the head is trained; `noiseAlphaBar` at the noise
   * end (for the KL term).
   */
  constructor(
    backend: Backend,
    makeOptimizer: () => Optimizer,
    o: NoPropCommonOptions,
    private cleanAlphaBar: number,
    private noiseAlphaBar: number,
  ) {
    this.backend = backend;
    this.seed = o.seed;
    this.legacyInference = o.streams === 'legacy';
    checkBlockKind(o.block ?? 'mlp'); // before the embedding's tensor exists, so a bad name leaks nothing
    const emb = makeEmbedding(o.embedding ?? 'onehot', o.classes, backend, Rng.stream(o.seed, 'noprop/embedding'), {
      dim: o.embedDim,
      prototypes: o.prototypes,
    });
    this.embedding = emb.table;
    this.embeddingTrainable = emb.trainable;
    const d = this.embedding.shape[1];
    this.head = new Sequential(
      { input: [d], layers: [{ type: 'dense', units: o.classes }] },
      { backend, rng: Rng.stream(o.seed, 'noprop/head/init') },
    );
    // Start the head as the nearest-embedding decoder, logits = z·Wᵀ / mean‖u‖²: the clean end of the chain is
    // close to u_y, so this is already a classifier, and cross-entropy refines it. (From a random start the
    // 10×10 head lagged the blocks by epochs: 20% against the blocks' 86% after 60 steps.)
    tidy(() => {
      const W = this.embedding;
      assign(this.head.namedParams().get('0.weight')!, div(mul(transpose(W), W.shape[0]), sum(square(W))));
    });
    this.headOptimizer = makeOptimizer();
    this.headRng = Rng.stream(o.seed, 'noprop/head/train');
  }

  get embedDim(): number {
    return this.embedding.shape[1];
  }

  /** z ~ N(√ᾱ·u, (1 − ᾱ) I), with one ᾱ for all rows or one per row. */
  protected noisy(u: Tensor, alphaBar: number | Float32Array, rng: Rng): Tensor {
    const eps = randomNormal(u.shape, rng, 0, 1, this.backend);
    if (typeof alphaBar === 'number') return add(mul(u, Math.sqrt(alphaBar)), mul(eps, Math.sqrt(1 - alphaBar)));
    const col = (f: (a: number) => number) => this.column(Float32Array.from(alphaBar, f));
    return add(
      mul(u, col(Math.sqrt)),
      mul(
        eps,
        col((a) => Math.sqrt(1 - a)),
      ),
    );
  }

  /** Per-row values as a column [B, 1] that broadcasts over a row's features. */
  protected column(values: Float32Array): Tensor {
    return tensor(values, [values.length, 1], 'float32', this.backend);
  }

  /** The head's cross-entropy on the clean end (and, for a learned embedding, its gradient plus the KL term). */
  trainHead(y: Tensor): Tensor {
    return tidy(() => {
      const u = gather(this.embedding, y),
        B = y.shape[0];
      const z = this.noisy(u, this.cleanAlphaBar, this.headRng);
      const { y: logits, caches } = this.head.forward(z, { training: true });
      const { loss, grad } = crossEntropyLoss(logits, y);
      const g = this.head.backwardWithCache(grad, caches, 0, 1, this.embeddingTrainable);
      const params = this.head.namedParams();
      const grads = { ...g.grads };
      if (this.embeddingTrainable) {
        // d/du of the CE through z = √ᾱ u + …, plus the KL(q(z_noise|y) ‖ N(0, I)) term's ᾱ_noise·u / B
        const du = add(mul(g.dx!, Math.sqrt(this.cleanAlphaBar)), mul(u, this.noiseAlphaBar / B));
        params.set('embedding', this.embedding);
        grads.embedding = scatterAdd(du, y, this.embedding.shape[0]);
      }
      this.headOptimizer.step(params, grads);
      return loss;
    });
  }

  /**
   * One trained network's update from its own loss term (a DT block, or the CT/FM network); returns the loss (a scalar
   * tensor).
   */
  protected abstract trainNetwork(prefix: string, x: Tensor, y: Tensor): Tensor;
  abstract predict(x: Tensor): Tensor;

  /** One group's update on a batch ('head', or a network's prefix): what a worker does with its share. */
  trainGroup(name: string, x: Tensor, y: Tensor): Tensor {
    if (name === 'head') return this.trainHead(y);
    this.network(name);
    return this.trainNetwork(name, x, y);
  }

  /**
   * Every group learns from the batch alone, so they spread over workers side by side — unless the label embedding
   * is learned: the head trains it each step and every block reads it, so they share state and stay together.
   */
  parallelism(): IndependentGroups {
    const names = this.groups().map((g) => g.name);
    return {
      kind: 'independent',
      shared: this.embeddingTrainable
        ? {
            why:
              'a learned label embedding is read by every block and trained by the head each step, ' +
              'so NoProp groups are not independent',
            hint: 'use the onehot or prototype embedding with --workers, or train on one worker',
          }
        : undefined,
      train: (indices, x, y) =>
        tidy(() => indices.map((i) => this.trainGroup(names[i], x, y)).reduce((a, l) => add(a, l))),
    };
  }

  /** Every group in turn (the networks, then the head); no group reads another's result. */
  trainStep(x: Tensor, y: Tensor): StepResult {
    let loss: Tensor | null = null;
    for (const g of this.groups()) {
      const l = this.trainGroup(g.name, x, y);
      loss = loss ? add(loss, l) : l;
    }
    return { loss: loss! };
  }

  private network(prefix: string) {
    return (
      this.networks().find((n) => n.prefix === prefix) ??
      fail(
        'INVALID_ARGUMENT',
        `${this.name} has no group '${prefix}'`,
        `use one of: ${this.groups()
          .map((g) => g.name)
          .join(', ')}`,
      )
    );
  }

  private groupTensors(name: string): { tensors: Map<string, Tensor>; optimizer: Optimizer; rng: Rng } {
    if (name === 'head') {
      const tensors = new Map(this.head.namedParams());
      if (this.embeddingTrainable) tensors.set('embedding', this.embedding);
      return { tensors, optimizer: this.headOptimizer, rng: this.headRng };
    }
    const n = this.network(name);
    return {
      tensors: new Map([...n.owner.namedParams(), ...n.owner.namedBuffers()]),
      optimizer: n.optimizer,
      rng: n.rng,
    };
  }

  saveGroup(name: string): Promise<GroupState> {
    const g = this.groupTensors(name);
    return saveGroupState(g.tensors, g.optimizer, g.rng);
  }

  loadGroup(name: string, state: GroupState): void {
    const g = this.groupTensors(name);
    loadGroupState(name, state, g.tensors, g.optimizer, g.rng);
  }

  /**
   * z_0 of inference for a batch of `batch` [batch, d]: one N(0, I) draw from the rule's fixed inference stream (the
   * same every call), repeated on every row, and that stream, for any later step noise (`sharedNoise`). Every row
   * starts from the same z_0 so that a row's scores depend only on its own input, not on where it sits in the batch
   * or what else is in it (perturbation explanations score an input and its perturbed copies in one batch).
   */
  initialNoise(batch: number): { z: Tensor; rng: Rng } {
    const rng = this.legacyInference ? new Rng(this.seed + 7) : Rng.stream(this.seed, 'noprop/inference');
    return { z: this.sharedNoise(batch, rng), rng };
  }

  /**
   * Inference noise [batch, d]: d N(0, I) values drawn once from `rng` and repeated on every row (training draws
   * per row; inference must not, see `initialNoise`).
   */
  protected sharedNoise(batch: number, rng: Rng): Tensor {
    return tidy(() =>
      gather(
        randomNormal([1, this.embedDim], rng, 0, 1, this.backend),
        tensor(new Int32Array(batch), [batch], 'int32', this.backend),
      ),
    );
  }

  /**
   * Inference shared by the variants: z_0 from `initialNoise`, then `steps` updates z ← step(z, k, rng) (k = 0 …
   * steps − 1), each in its own scope so their activations never live at once; the head's logits on the
   * result. The generator is seeded per call, so predictions repeat; a step that adds noise draws it with
   * `sharedNoise`, the same on every row.
   */
  protected integrate(x: Tensor, steps: number, step: (z: Tensor, k: number, rng: Rng) => Tensor): Tensor {
    return tidy(() => {
      const start = this.initialNoise(x.shape[0]),
        rng = start.rng;
      let z = start.z;
      for (let k = 0; k < steps; k++) {
        const prev = z;
        z = tidy(() => step(prev, k, rng));
        prev.dispose();
      }
      return this.head.predict(z);
    });
  }
  /** The trained networks by name prefix, each with its optimizer. */
  protected abstract networks(): { prefix: string; owner: ParamOwner; optimizer: Optimizer; rng: Rng }[];
  /** Which groups each network forms for placement; by default one independent group per network. */
  groups(): ParamGroup[] {
    const all = [...this.params().keys()];
    return [
      ...this.networks().map(({ prefix }) => ({
        name: prefix,
        params: all.filter((k) => k.startsWith(`${prefix}.`)),
        reads: ['x', 'y'],
        waitsFor: [],
      })),
      {
        name: 'head',
        params: all.filter((k) => k.startsWith('head.') || k === 'embedding'),
        reads: ['y'],
        waitsFor: [],
      },
    ];
  }

  params(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const { prefix, owner } of this.networks())
      for (const [k, t] of owner.namedParams()) out.set(`${prefix}.${k}`, t);
    for (const [k, t] of this.head.namedParams()) out.set(`head.${k}`, t);
    if (this.embeddingTrainable) out.set('embedding', this.embedding);
    return out;
  }

  buffers(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const { prefix, owner } of this.networks())
      for (const [k, t] of owner.namedBuffers()) out.set(`${prefix}.${k}`, t);
    if (!this.embeddingTrainable) out.set('embedding', this.embedding);
    return out;
  }

  setLr(lr: number): void {
    for (const { optimizer } of this.networks()) optimizer.lr = lr;
    this.headOptimizer.lr = lr;
  }

  dispose(): void {
    for (const { optimizer } of this.networks()) optimizer.dispose();
    this.headOptimizer.dispose();
    this.embedding.dispose();
  }
}
