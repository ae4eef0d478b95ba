import type { BatchExplainOptions } from './types.js';

/** What a method explains at once: the inputs, a target for each, the reference inputs and the options. */
export interface Job {
  xs: Float32Array[];
  /** Per input; −1 asks a CAM method for the predicted class (found in its own forward pass). */
  ts: number[];
  /** The baseline, shared by the inputs. */
  base: Float32Array;
  /** GradientSHAP's and KernelSHAP's references: the background set, or the baseline alone. */
  refs: Float32Array[];
  o: BatchExplainOptions;
}

/** What a method returns per input before the common fields are added. */
export interface Raw {
  values: Float32Array;
  /** The values' shape where it is not the input's (a layer's output). */
  shape?: number[];
  delta?: number;
  score?: number;
  baselineScore?: number;
  /** The class, where the method picked it (−1 asked for the predicted one). */
  target?: number;
  /** KernelSHAP: every coalition enumerated; when sampled, each element's standard error. */
  exact?: boolean;
  standardError?: Float32Array;
  /** Occlusion: how many windows covered each element. */
  coverage?: Int32Array;
}

/** Rows [k·n, (k + 1)·n) of a flat list: the n rows of input k. */
export const rowsOf = <T>(all: readonly T[], k: number, n: number): T[] => all.slice(k * n, (k + 1) * n);

export const sumOf = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
};
