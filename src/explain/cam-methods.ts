import { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import type { Evaluator } from './batch.js';
import type { ExplainOptions } from './types.js';
import type { Raw } from './gradient-methods.js';

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

/**
 * Class activation maps at a layer with [C, h, w] output, upsampled to the input: Grad-CAM (channel weights =
 * mean gradient), Grad-CAM++ (weights from the second and third powers of the gradient), Smooth Grad-CAM++
 * (those powers averaged over noisy copies of x, weighing x's own maps) and NormGrad (per location
 * ‖gradient‖·‖activation‖ over channels).
 */
export async function cam(ev: Evaluator, x: Float32Array, t: number, o: ExplainOptions, kind: CamKind): Promise<Raw> {
  // t = −1: the predicted class, found in the same forward pass as the maps
  const model = ev.model;
  const lg =
    model.layerGradients ??
    fail(
      'INVALID_ARGUMENT',
      `${kind} needs a network with convolutional layers`,
      'explain a Sequential CNN, or use a perturbation method',
    );
  const layers = model.mapLayers ?? [];
  const layer =
    o.layer ??
    layers[layers.length - 1] ??
    fail(
      'INVALID_ARGUMENT',
      `${kind} needs a layer with [C, H, W] output and this model has none`,
      'use a CNN, or a gradient or perturbation method',
    );
  const rng = new Rng(o.seed ?? 0);
  const n = kind === 'smooth-grad-cam++' ? (o.samples ?? 25) : 1;
  let lo = Infinity,
    hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const sigma = o.noise ?? 0.15 * (hi - lo || 1);
  // the maps and the explained class come from x itself; Smooth Grad-CAM++ takes its gradients from n noisy copies
  // after it (as torch-cam does: the noise smooths the weights, not the feature maps they weigh)
  const noisy = kind === 'smooth-grad-cam++';
  const inputs = [
    x,
    ...(noisy ? Array.from({ length: n }, () => Float32Array.from(x, (v) => v + sigma * rng.normal())) : []),
  ];
  let act: Float32Array | null = null,
    shape: number[] = [];
  const per = model.inputShape.reduce((p, d) => p * d, 1);
  const g1: Float64Array[] = [],
    g2: Float64Array[] = [],
    g3: Float64Array[] = [];
  for (let s = 0; s < inputs.length; s += ev.batchSize) {
    const b = Math.min(ev.batchSize, inputs.length - s),
      flat = new Float32Array(b * per);
    for (let i = 0; i < b; i++) flat.set(inputs[s + i], i * per);
    const r = await lg.call(model, flat, b, new Int32Array(b).fill(t), layer);
    ev.calls += b;
    t = r.targets[0]; // −1 (the predicted class) resolved on x, the first row; the noisy copies explain that class
    shape = r.shape;
    const size = r.shape.reduce((p, d) => p * d, 1);
    if (!act) act = r.act.slice(0, size); // the maps of x
    for (let i = s === 0 && noisy ? 1 : 0; i < b; i++) {
      const g = r.grad.subarray(i * size, (i + 1) * size);
      g1.push(Float64Array.from(g));
      g2.push(Float64Array.from(g, (v) => v * v));
      g3.push(Float64Array.from(g, (v) => v * v * v));
    }
  }
  if (shape.length !== 3)
    fail(
      'INVALID_ARGUMENT',
      `layer ${layer} outputs ${JSON.stringify(shape)}, not feature maps [C, H, W]`,
      `use one of: ${layers.join(', ')}`,
    );
  const [C, h, w] = shape,
    hw = h * w;
  const mean = (gs: Float64Array[]) => {
    const m = new Float64Array(gs[0].length);
    for (const g of gs) for (let i = 0; i < g.length; i++) m[i] += g[i] / gs.length;
    return m;
  };
  const G = mean(g1),
    G2 = mean(g2),
    G3 = mean(g3),
    A = act!;
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
  } else {
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
  }
  const [Cin, H, W] = model.inputShape.length === 3 ? model.inputShape : [1, 1, per];
  const up = upsample(map, h, w, H, W);
  return { values: Float32Array.from({ length: Cin * H * W }, (_, i) => up[i % (H * W)]), target: t };
}
