import type { Sequential } from '../nn/sequential.js';
import type { Tensor } from '../core/tensor.js';
import { tidy } from '../core/scope.js';

/** Layers [from, to) of a Sequential: a trainable layer and the parameter-free layers after it. */
export interface Segment {
  name: string;
  from: number;
  to: number;
}

/**
 * Cuts a model after every trainable layer's parameter-free followers (activations, pooling, flatten):
 * the units a local rule trains on their own and a pipeline places on workers. Layers before the first
 * trainable one join the first segment; batch norm never starts a segment.
 */
export function segmentsOf(model: Sequential): Segment[] {
  const starts = model.layers
    .map((l, i) => (l.params.size > 0 && l.spec.type !== 'batchnorm' ? i : -1))
    .filter((i) => i >= 0);
  return starts.map((start, k) => ({
    name: `segment${k}`,
    from: k === 0 ? 0 : start,
    to: k + 1 < starts.length ? starts[k + 1] : model.layers.length,
  }));
}

const inRange = (m: Map<string, Tensor>, from: number, to: number) =>
  new Map(
    [...m].filter(([k]) => {
      const i = Number(k.split('.')[0]);
      return i >= from && i < to;
    }),
  );

/** The parameters of layers [from, to) of `model`, keyed as in namedParams. */
export function paramsInRange(model: Sequential, from: number, to: number): Map<string, Tensor> {
  return inRange(model.namedParams(), from, to);
}

/** Parameters and buffers (batch-norm running statistics) of layers [from, to): what a segment's state holds. */
export function stateInRange(model: Sequential, from: number, to: number): Map<string, Tensor> {
  return new Map([...paramsInRange(model, from, to), ...inRange(model.namedBuffers(), from, to)]);
}

/** The layers [from, to) that segments [first, end) cover. */
export function layersOf(segments: readonly Segment[], first: number, end: number): [from: number, to: number] {
  return [segments[first].from, segments[end - 1].to];
}

/** Segments [first, end) of `model` in inference mode: a pipeline stage's share of a prediction. */
export function segmentForward(
  model: Sequential,
  segments: readonly Segment[],
  h: Tensor,
  first: number,
  end: number,
): Tensor {
  return tidy(() => model.forwardWithCache(h, { training: false }, ...layersOf(segments, first, end)).y);
}
