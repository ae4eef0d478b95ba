import type { Tensor } from '../core/tensor.js';

/**
 * How a rule's work may be spread over workers, and the operations that spreading needs. The rule declares it;
 * `parallel/` executes it and never asks which rule it runs. Groups are addressed by their index in
 * `rule.groups()`; in the pipelines, group k is segment k and segments run in index order.
 */
export type Parallelism = IndependentGroups | ForwardPipeline | GPipe;
export type ParallelismKind = Parallelism['kind'];

/** Every group learns from the batch alone (NoProp's blocks and head): any group on any worker, side by side. */
export interface IndependentGroups {
  readonly kind: 'independent';
  /**
   * Set when the groups share trained state after all (a learned label embedding that every block reads), so they
   * must stay on one worker: the message and hint of the error a request for more workers gets.
   */
  readonly shared?: { why: string; hint: string };
  /** Groups `indices` learn from one batch; their summed loss (a scalar tensor). */
  train(indices: readonly number[], x: Tensor, y: Tensor): Tensor;
}

/** Segments in a chain, each reading the previous one's output: inference and cost measurement over a range. */
export interface SegmentChain {
  readonly segments: number;
  /** The output of segments [first, end) for their input, in inference mode. */
  forward(h: Tensor, first: number, end: number): Tensor;
}

/**
 * Segments that learn as the batch passes, from the labels, with no error between them (tpSGD): a forward
 * pipeline where each stage takes its local steps and hands the output and the labels on.
 */
export interface ForwardPipeline extends SegmentChain {
  readonly kind: 'forward-pipeline';
  /** Segments [first, end) learn in turn; the last one's output (null once the output segment learned) and losses. */
  train(h: Tensor, y: Tensor, first: number, end: number): { out: Tensor | null; loss: Tensor };
}

/** What one training forward pass over a range keeps for its backward pass; `dispose` frees it. */
export interface RangeForward {
  readonly y: Tensor;
  dispose(): void;
}

/**
 * Segments that learn from an error travelling back (backprop), in GPipe's schedule: micro-batches go forward
 * through every stage, the last stage starts each error, errors go back, each stage sums its gradients and steps
 * once per batch.
 */
export interface GPipe extends SegmentChain {
  readonly kind: 'gpipe';
  /** A training forward pass of segments [first, end), keeping what the backward pass needs. */
  forwardTrain(h: Tensor, first: number, end: number): RangeForward;
  /** The loss of the model's output against the labels, and its gradient, both scaled by `share` of the batch. */
  loss(out: Tensor, y: Tensor, share: number): { loss: Tensor; grad: Tensor };
  /** The error at the range's input (when `needDx`) and the gradients of its parameters, keyed for `step`. */
  backward(
    dy: Tensor,
    fwd: RangeForward,
    first: number,
    end: number,
    needDx: boolean,
  ): { dx: Tensor | null; grads: Record<string, Tensor> };
  /** Segments [first, end) take one optimizer step from the summed gradients. */
  step(first: number, end: number, grads: Readonly<Record<string, Tensor>>): void;
}
