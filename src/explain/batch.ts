import { fail } from '../core/errors.js';
import type { Explainable, GradientRule } from './model.js';

/** One target for every input, or one per input. */
export type Targets = number | ArrayLike<number>;

const targetAt = (t: Targets, i: number): number => (typeof t === 'number' ? t : t[i]);

/** Each of `ts` repeated `n` times: the targets of n rows per explained input. */
export const repeatEach = (ts: readonly number[], n: number): Int32Array =>
  Int32Array.from({ length: ts.length * n }, (_, i) => ts[Math.floor(i / n)]);

/** Model calls on many inputs, `batchSize` at a time, counted. */
export class Evaluator {
  calls = 0;
  readonly per: number;
  private readonly scored = new WeakMap<Float32Array, Float32Array>();

  constructor(
    readonly model: Explainable,
    readonly batchSize = 64,
  ) {
    this.per = model.inputShape.reduce((p, d) => p * d, 1);
  }

  /**
   * Rows of `inputs`, `batchSize` at a time, through `run` (given the batch, its size and its first row); rows are
   * inputs, or `per` values each (a layer's activations).
   */
  async chunks<T>(
    inputs: readonly Float32Array[],
    run: (x: Float32Array, n: number, from: number) => Promise<T[]>,
    per = this.per,
  ): Promise<T[]> {
    const out: T[] = [];
    for (let s = 0; s < inputs.length; s += this.batchSize) {
      const n = Math.min(this.batchSize, inputs.length - s);
      const x = new Float32Array(n * per);
      for (let i = 0; i < n; i++) x.set(inputs[s + i], i * per);
      out.push(...(await run(x, n, s)));
      this.calls += n;
    }
    return out;
  }

  /** The target's score (logit) for each input: one target for all, or one per input. */
  async scores(inputs: readonly Float32Array[], targets: Targets): Promise<Float64Array> {
    return Float64Array.from(await this.allScores(inputs), (row, i) => row[targetAt(targets, i)]);
  }

  /**
   * All class scores of each input. Rows are remembered per input array, so a method asking again for an input
   * already scored (IG's endpoints after the predicted class was found on them) costs no model call.
   */
  async allScores(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    const K = this.model.classes;
    const missing = [...new Set(inputs.filter((x) => !this.scored.has(x)))];
    const rows = await this.chunks(missing, async (x, n) => {
      const v = await this.model.scores(x, n);
      return Array.from({ length: n }, (_, i) => v.slice(i * K, (i + 1) * K));
    });
    missing.forEach((x, i) => {
      this.scored.set(x, rows[i]);
    });
    return inputs.map((x) => this.scored.get(x)!);
  }

  /** The target score's gradient at each input (one target for all, or one per input). */
  async gradients(
    inputs: readonly Float32Array[],
    targets: Targets,
    rule: GradientRule = 'gradient',
  ): Promise<Float32Array[]> {
    const grads =
      this.model.gradients ??
      fail(
        'INVALID_ARGUMENT',
        'this model has no gradients (it is known only by its predictions)',
        'use a perturbation method: occlusion, feature-ablation, lime, kernel-shap or rise',
      );
    return this.chunks(inputs, async (x, n, from) => {
      const ts = Int32Array.from({ length: n }, (_, i) => targetAt(targets, from + i));
      const g = await grads.call(this.model, x, n, ts, rule);
      return Array.from({ length: n }, (_, i) => g.slice(i * this.per, (i + 1) * this.per));
    });
  }
}

/** Softmax of one row of scores. */
export function softmax(row: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i]);
  const e = Float64Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
