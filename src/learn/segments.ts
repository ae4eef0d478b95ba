import type { Sequential } from '../nn/sequential.js';
import type { Tensor } from '../core/tensor.js';
import type { Rng } from '../core/rng.js';
import type { Cache } from '../nn/layer.js';
import { tidy } from '../core/scope.js';
import { fail } from '../core/errors.js';

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

/**
 * Checks `frozen`, how many of `model`'s first layers keep their parameters and batch-norm statistics (fine-tuning
 * the rest): 0, or a whole number that leaves the last layer with parameters trainable. A typed error otherwise.
 */
export function checkFrozen(model: Sequential, frozen: number): void {
  const last = lastTrainable(model);
  if (frozen === 0 || (Number.isInteger(frozen) && frozen > 0 && frozen <= last)) return;
  const count = model.layers.length;
  fail(
    'INVALID_ARGUMENT',
    last < 0
      ? 'the model has no layer with parameters to train'
      : `freezing ${frozen} of the model's ${count} layers leaves nothing to train ` +
          `(its last layer with parameters is layer ${last}, a ${model.layers[last].spec.type})`,
    last < 0 ? 'train a model with parameters' : `freeze a whole number of layers from 0 to ${last}`,
  );
}

/**
 * The index of the last layer with parameters (-1 when none has any): freezing that many layers trains the last
 * trainable layer only (and the parameter-free layers after it).
 */
export function lastTrainable(model: Sequential): number {
  let i = model.layers.length - 1;
  while (i >= 0 && model.layers[i].params.size === 0) i--;
  return i;
}

/**
 * The first layer of `s` that trains while layers [0, frozen) are frozen, or `s.to` when none of its parameters
 * trains (a frozen segment: it only passes batches on).
 */
export function trainedFrom(model: Sequential, s: Segment, frozen: number): number {
  const from = Math.max(s.from, frozen);
  return paramsInRange(model, from, s.to).size > 0 ? from : s.to;
}

/**
 * A training forward pass over layers [from, to) keeping every layer's cache: layers [0, frozen) run as in
 * inference (batch norm on its running statistics, which stay as they are; no dropout), the rest in training mode.
 */
export function frozenForward(
  model: Sequential,
  h: Tensor,
  rng: Rng,
  from: number,
  to: number,
  frozen: number,
): { y: Tensor; caches: Cache[] } {
  const cut = Math.min(Math.max(from, frozen), to);
  if (cut === from) return model.forwardWithCache(h, { training: true, rng }, from, to);
  const inference = model.forwardWithCache(h, { training: false }, from, cut);
  const trained = model.forwardWithCache(inference.y, { training: true, rng }, cut, to);
  return { y: trained.y, caches: [...inference.caches, ...trained.caches] };
}
