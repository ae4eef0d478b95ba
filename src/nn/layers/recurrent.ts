import type { Tensor } from '../../core/tensor.js';
import { add, concat, matmul, randomUniform, slice, sum, zeros } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import { tidy } from '../../core/scope.js';
import type { BuildContext, Cache, Gradients, Layer, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

export type RecurrentSpec = Extract<LayerSpec, { type: 'rnn' | 'gru' }>;

/** One step of a cell: h_t, and what its VJP needs. */
export interface CellStep {
  h: Tensor;
  cache: Cache;
}

/**
 * One step's VJP, from dh_t: `dgx` to the input projection x_t·W + b, `dgh` to the recurrent projection h_{t−1}·U
 * (+ the recurrent bias), and `dhDirect` to h_{t−1} by the paths that skip U (GRU's z ⊙ h_{t−1}; null for Elman).
 */
export interface CellGrads {
  dgx: Tensor;
  dgh: Tensor;
  dhDirect: Tensor | null;
}

/** What a recurrent layer's forward keeps for backprop through time: the input and every step. */
interface SequenceCache {
  x: Tensor;
  /** h_0 … h_{T−1} (h_{−1} is zero). */
  hs: Tensor[];
  steps: Cache[];
}

/**
 * A recurrent layer over a per-sample sequence [T, F] (a batch [B, T, F]): the state h_t [units] from the input x_t
 * and h_{t−1} (h_{−1} = 0) by a cell, with G gate blocks of `units` columns each (Elman 1, GRU 3). Parameters, in the
 * row-vector convention of Dense (x·W): `weight` [F, G·units], `recurrentWeight` [units, G·units], `bias` [G·units]
 * and, for cells that need it apart (GRU), `recurrentBias` [G·units]; PyTorch's weight_ih_l0 is `weight` transposed.
 * Initialisation as PyTorch's: every entry U(−1/√units, 1/√units). The output is h_{T−1} [units] (default) or, with
 * `returnSequence`, every h_t [T, units]. Backward is full backprop through time.
 *
 * A subclass gives the cell (`cell`, `cellBackward`); the per-step pieces are public so that a local rule can run the
 * sequence one step at a time and keep nothing from earlier steps (tpSGD for recurrent nets, learn/tpsgd-recurrent.ts).
 */
export abstract class RecurrentLayer extends BaseLayer<RecurrentSpec> {
  readonly recurrent = true;
  readonly units: number;
  readonly steps: number;
  readonly features: number;

  constructor(spec: RecurrentSpec, inputShape: readonly number[], { backend, rng }: BuildContext, gates: number) {
    super(spec, inputShape);
    const units = spec.units;
    if (!(Number.isInteger(units) && units > 0))
      fail('SPEC_INVALID', `${spec.type} units ${units} is not a positive integer`, 'give the hidden state size');
    if (inputShape.length !== 2)
      fail(
        'SPEC_INVALID',
        `${spec.type} needs a sequence [steps, features] per sample but gets ${fmt(inputShape)}`,
        inputShape.length === 3 && inputShape[0] === 1
          ? `put { type: 'reshape', shape: [${inputShape[1]}, ${inputShape[2]}] } before it (image rows as steps)`
          : 'put a reshape layer before it that makes the input [steps, features]',
      );
    this.units = units;
    [this.steps, this.features] = inputShape;
    this.outputShape = spec.returnSequence ? [this.steps, units] : [units];
    const k = 1 / Math.sqrt(units);
    const u = (shape: number[]) => randomUniform(shape, rng, -k, k, backend);
    this.params.set('weight', u([this.features, gates * units]));
    this.params.set('recurrentWeight', u([units, gates * units]));
    this.params.set('bias', u([gates * units]));
    if (this.hasRecurrentBias()) this.params.set('recurrentBias', u([gates * units]));
  }

  /** Whether the recurrent projection has its own bias (GRU: it sits inside r ⊙ (h·U_n + b_hn)). */
  protected abstract hasRecurrentBias(): boolean;

  /** h_t from the input projection gx [B, G·units] and the recurrent one gh (null at t = 0 with no bias: zero). */
  abstract cell(gx: Tensor, gh: Tensor | null, hPrev: Tensor | null): CellStep;

  /** The VJP of `cell` from dh_t. */
  abstract cellBackward(dh: Tensor, cache: Cache): CellGrads;

  /** x_t·W + b for rows x [R, F]: the input projection of one step (or of every step at once). */
  project(x: Tensor): Tensor {
    return tidy(() => add(matmul(x, this.param('weight')), this.param('bias')));
  }

  /** h_{t−1}·U (+ the recurrent bias); null at t = 0 when that is zero. */
  recurrentProjection(hPrev: Tensor | null): Tensor | null {
    const bias = this.params.get('recurrentBias');
    if (!hPrev) return bias ? bias.reshape([1, bias.size]) : null;
    const hu = matmul(hPrev, this.param('recurrentWeight'));
    if (!bias) return hu;
    return tidy(() => add(hu, bias));
  }

  /**
   * One whole step: h_t from x_t [B, F] and h_{t−1} (null at t = 0). Not in a tidy of its own: the cache may hold
   * h_{t−1}, and a tensor a tidy returns moves into the enclosing scope, which would free the caller's h_{t−1}.
   */
  step(xt: Tensor, hPrev: Tensor | null): CellStep {
    return this.cell(this.project(xt), this.recurrentProjection(hPrev), hPrev);
  }

  /**
   * One step's parameter gradients from dh_t with h_{t−1} held constant (no gradient through time): the per-step VJP
   * that a local rule stops after (BPTT goes on to dh_{t−1}, `previousStateGrad`).
   */
  stepBackward(dh: Tensor, cache: Cache, xt: Tensor, hPrev: Tensor | null): Record<string, Tensor> {
    return tidy(() => {
      const { dgx, dgh } = this.cellBackward(dh, cache);
      return {
        weight: matmul(xt, dgx, { transposeA: true }),
        bias: sum(dgx, 0),
        ...this.recurrentGrads(dgh, hPrev),
      };
    });
  }

  /** dh_{t−1}: through U, plus the paths around it (GRU's z ⊙ h_{t−1}). */
  private previousStateGrad({ dgh, dhDirect }: CellGrads): Tensor {
    const viaU = matmul(dgh, this.param('recurrentWeight'), { transposeB: true });
    return dhDirect ? add(viaU, dhDirect) : viaU;
  }

  /** The recurrent weight's (and bias's) share of one step: h_{t−1}ᵀ·dgh, zero at t = 0. */
  private recurrentGrads(dgh: Tensor, hPrev: Tensor | null): Record<string, Tensor> {
    const g: Record<string, Tensor> = {};
    const U = this.param('recurrentWeight');
    g.recurrentWeight = hPrev ? matmul(hPrev, dgh, { transposeA: true }) : zeros(U.shape, 'float32', U.backend);
    if (this.params.has('recurrentBias')) g.recurrentBias = sum(dgh, 0);
    return g;
  }

  /** Step t of x [B, T, F] as [B, F]. */
  stepInput(x: Tensor, t: number): Tensor {
    return slice(x, 1, t, 1).reshape([x.shape[0], this.features]);
  }

  /** Rows [B, k] in step order as [B, T, k] (the sequence output, and the stacked step gradients). */
  private stack(rows: Tensor[]): Tensor {
    const B = rows[0].shape[0],
      k = rows[0].shape[1];
    return concat(
      rows.map((r) => r.reshape([B, 1, k])),
      1,
    );
  }

  private checkInput(x: Tensor): void {
    if (x.rank !== 3 || x.shape[1] !== this.steps || x.shape[2] !== this.features)
      fail(
        'SHAPE_MISMATCH',
        `${this.spec.type} expects a batch [B, ${this.steps}, ${this.features}] but gets ${fmt(x.shape)}`,
        'pass sequences of the shape the layer was built for',
      );
  }

  forward(x: Tensor) {
    this.checkInput(x);
    // x joins the cache outside the tidy: a tensor a tidy returns moves to the caller's scope, which would free the
    // caller's own input with it
    const { y, hs, steps } = tidy(() => {
      const B = x.shape[0],
        T = this.steps,
        G = this.param('bias').size;
      // the input projection of every step in one product: [B·T, F]·W
      const gx = this.project(x.reshape([B * T, this.features])).reshape([B, T, G]);
      const hs: Tensor[] = [],
        steps: Cache[] = [];
      let h: Tensor | null = null;
      for (let t = 0; t < T; t++) {
        const s = this.cell(slice(gx, 1, t, 1).reshape([B, G]), this.recurrentProjection(h), h);
        hs.push(s.h);
        steps.push(s.cache);
        h = s.h;
      }
      const y = this.spec.returnSequence ? this.stack(hs) : hs[T - 1].reshape(hs[T - 1].shape);
      return { y, hs, steps };
    });
    const cache: SequenceCache = { x, hs, steps };
    return { y, cache };
  }

  /** Backprop through time: dh_t = dy_t (sequence output) + the gradient from step t + 1, from t = T − 1 down. */
  backward(dy: Tensor, cache: Cache, wantDx = true, wantGrads = true): Gradients {
    const { x, hs, steps } = cache as SequenceCache;
    return tidy(() => {
      const B = x.shape[0],
        T = this.steps;
      const dgxs: Tensor[] = new Array(T);
      const recurrent: Record<string, Tensor>[] = [];
      let dh: Tensor | null = null;
      for (let t = T - 1; t >= 0; t--) {
        const own = this.spec.returnSequence ? slice(dy, 1, t, 1).reshape([B, this.units]) : t === T - 1 ? dy : null;
        const d: Tensor = own && dh ? add(own, dh) : (own ?? dh)!;
        const cell = this.cellBackward(d, steps[t]);
        dgxs[t] = cell.dgx;
        if (wantGrads) recurrent.push(this.recurrentGrads(cell.dgh, t > 0 ? hs[t - 1] : null));
        if (t > 0) dh = this.previousStateGrad(cell);
      }
      // the input side of every step in one product, as the forward did
      const dgx = this.stack(dgxs).reshape([B * T, -1]);
      const xr = x.reshape([B * T, this.features]);
      const grads: Record<string, Tensor> = {};
      if (wantGrads) {
        grads.weight = matmul(xr, dgx, { transposeA: true });
        grads.bias = sum(dgx, 0);
        for (const k of Object.keys(recurrent[0])) grads[k] = recurrent.map((g) => g[k]).reduce((a, b) => add(a, b));
      }
      const dx = wantDx ? matmul(dgx, this.param('weight'), { transposeB: true }).reshape([B, T, this.features]) : null;
      return { dx, grads };
    });
  }
}

/** Whether a layer is recurrent (runs step by step: tpSGD trains it per step). */
export function isRecurrent(layer: Layer): layer is RecurrentLayer {
  return (layer as Partial<RecurrentLayer>).recurrent === true;
}
