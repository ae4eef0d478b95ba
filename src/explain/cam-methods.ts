import { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import type { Evaluator } from './batch.js';
import type { Explainable } from './model.js';
import { countOf } from './options.js';
import { rowsOf, type Job, type Raw } from './job.js';

export type CamKind = 'grad-cam' | 'grad-cam++' | 'smooth-grad-cam++' | 'normgrad';

/** Bilinear resize of a [h, w] map to [H, W] (align-corners off, as image libraries do). */
export function upsample(map: Float64Array, h: number, w: number, H: number, W: number): Float64Array {
  const out = new Float64Array(H * W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const sy = Math.min(Math.max(((y + 0.5) * h) / H - 0.5, 0), h - 1),
        sx = Math.min(Math.max(((x + 0.5) * w) / W - 0.5, 0), w - 1);
      const y0 = Math.floor(sy),
        x0 = Math.floor(sx),
        y1 = Math.min(y0 + 1, h - 1),
        x1 = Math.min(x0 + 1, w - 1),
        fy = sy - y0,
        fx = sx - x0;
      out[y * W + x] =
        (1 - fy) * ((1 - fx) * map[y0 * w + x0] + fx * map[y0 * w + x1]) +
        fy * ((1 - fx) * map[y1 * w + x0] + fx * map[y1 * w + x1]);
    }
  return out;
}

/** The index of `layer` (a name or an index; checked by `checkOptions`) in the model's layer list. */
export function layerIndex(model: Explainable, layer: number | string): number {
  return typeof layer === 'number' ? layer : model.layerNames!.indexOf(layer);
}

/**
 * Class activation maps at a layer with [C, h, w] output, upsampled to the input: Grad-CAM (channel weights =
 * mean gradient), Grad-CAM++ (weights from the second and third powers of the gradient), Smooth Grad-CAM++
 * (those powers averaged over `noiseSamples` noisy copies of x, weighing x's own maps) and NormGrad (per
 * location ‖gradient‖·‖activation‖ over channels).
 */
export async function cam(ev: Evaluator, j: Job, kind: CamKind): Promise<Raw[]> {
  const model = ev.model;
  const lg =
    model.layerGradients ??
    fail(
      'INVALID_ARGUMENT',
      `${kind} needs a network with convolutional layers`,
      'explain a Sequential CNN, or use a perturbation method',
    );
  const layers = model.mapLayers ?? [];
  const named = (i: number) => (model.layerNames ? `${model.layerNames[i]} (${i})` : String(i));
  const layer =
    j.o.layer !== undefined
      ? layerIndex(model, j.o.layer)
      : (layers[layers.length - 1] ??
        fail(
          'INVALID_ARGUMENT',
          `${kind} needs a layer with [C, H, W] output and this model has none`,
          'use a CNN, or a gradient or perturbation method',
        ));
  const per = ev.per;
  let shape: number[] = [];
  /** Feature maps and gradients at the layer for each input, targets −1 resolved to the predicted class. */
  const pass = async (inputs: readonly Float32Array[], targets: Int32Array, keepMaps: boolean) => {
    const maps: Float32Array[] = [],
      grads: Float32Array[] = [],
      used = new Int32Array(targets.length);
    await ev.chunks(inputs, async (flat, b, from) => {
      const r = await lg.call(model, flat, b, targets.slice(from, from + b), layer);
      shape = r.shape;
      if (shape.length !== 3)
        fail(
          'INVALID_ARGUMENT',
          `layer ${named(layer)} outputs ${JSON.stringify(shape)}, not feature maps [C, H, W]`,
          `use one of: ${layers.map(named).join(', ')}`,
        );
      const size = shape.reduce((p, d) => p * d, 1);
      used.set(r.targets, from);
      for (let i = 0; i < b; i++) {
        if (keepMaps) maps.push(r.act.slice(i * size, (i + 1) * size));
        grads.push(r.grad.slice(i * size, (i + 1) * size));
      }
      return [];
    });
    return { maps, grads, used };
  };
  // the maps and the explained class come from x itself (−1: the class it predicts, from the same pass); Smooth
  // Grad-CAM++ takes its gradients from n noisy copies of it after that (as torch-cam does: the noise smooths the
  // weights, not the feature maps they weigh), each explaining x's class
  const first = await pass(j.xs, Int32Array.from(j.ts), true);
  let grads = first.grads.map((g) => [g]);
  const noisy = kind === 'smooth-grad-cam++';
  if (noisy) {
    const n = countOf(j.o);
    const copies = j.xs.flatMap((x) => {
      let lo = Infinity,
        hi = -Infinity;
      for (const v of x) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const sigma = j.o.noise ?? 0.15 * (hi - lo || 1),
        rng = new Rng(j.o.seed ?? 0);
      return Array.from({ length: n }, () => Float32Array.from(x, (v) => v + sigma * rng.normal()));
    });
    const second = await pass(
      copies,
      Int32Array.from({ length: copies.length }, (_, i) => first.used[Math.floor(i / n)]),
      false,
    );
    grads = j.xs.map((_, k) => rowsOf(second.grads, k, n));
  }
  const [Cin, H, W] = model.inputShape.length === 3 ? model.inputShape : [1, 1, per];
  return j.xs.map((_, k) => {
    const map = camMap(kind, first.maps[k], grads[k], shape);
    const up = upsample(map, shape[1], shape[2], H, W);
    return { values: Float32Array.from({ length: Cin * H * W }, (_, i) => up[i % (H * W)]), target: first.used[k] };
  });
}

/** One input's map at the layer's resolution from its feature maps A [C, h, w] and the gradients there. */
function camMap(kind: CamKind, A: Float32Array, gs: Float32Array[], [C, h, w]: number[]): Float64Array {
  const hw = h * w;
  const mean = (f: (v: number) => number) => {
    const m = new Float64Array(gs[0].length);
    for (const g of gs) for (let i = 0; i < g.length; i++) m[i] += f(g[i]) / gs.length;
    return m;
  };
  const G = mean((v) => v),
    G2 = mean((v) => v * v),
    G3 = mean((v) => v * v * v);
  const map = new Float64Array(hw);
  if (kind === 'normgrad') {
    for (let p = 0; p < hw; p++) {
      let ng = 0,
        na = 0;
      for (let c = 0; c < C; c++) {
        ng += G[c * hw + p] ** 2;
        na += A[c * hw + p] ** 2;
      }
      map[p] = Math.sqrt(ng) * Math.sqrt(na);
    }
    return map;
  }
  for (let c = 0; c < C; c++) {
    let weight = 0;
    if (kind === 'grad-cam') for (let p = 0; p < hw; p++) weight += G[c * hw + p] / hw;
    else {
      let sumA = 0;
      for (let p = 0; p < hw; p++) sumA += A[c * hw + p];
      for (let p = 0; p < hw; p++) {
        const g = G[c * hw + p],
          denom = 2 * G2[c * hw + p] + sumA * G3[c * hw + p];
        const alpha = g !== 0 && denom !== 0 ? G2[c * hw + p] / denom : 0;
        weight += alpha * Math.max(g, 0);
      }
    }
    for (let p = 0; p < hw; p++) map[p] += weight * A[c * hw + p];
  }
  for (let p = 0; p < hw; p++) map[p] = Math.max(map[p], 0);
  return map;
}
