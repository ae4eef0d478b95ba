import type { ExplainOptions, MethodName } from '../../src/index.js';

/** What the app passes to a method besides the method, the class and the baseline. */
export type MethodOptions = Omit<ExplainOptions, 'method' | 'target'>;

/**
 * One attribution method as the app offers it: its name, what it shows, how a person reads its picture, the options
 * the app runs it with (explicit, so the library's defaults do not move the app's pictures) and whether its map is
 * signed (red for the class, blue against) or a magnitude (dark → bright: how much, not which way).
 */
export interface MethodGuide {
  method: MethodName;
  name: string;
  shows: string;
  read: string;
  signed: boolean;
  /** It needs the model's gradients (a network gradients flow through: not NoProp-DT's denoising steps). */
  gradient: boolean;
  options: MethodOptions;
  /** The map as shown, from the method's values (a magnitude, smoothed), when it is not the values themselves. */
  display?: (values: Float32Array) => Float32Array;
}

/** 15 % of the pixel range, in the network's (normalised) input units: MNIST pixels span [0, 1] / 0.3081. */
const NOISE = 0.15 / 0.3081;

/** |v| over a 28×28 map, averaged with each pixel's neighbours (weights 1-2-1 in each direction). */
export function smoothMagnitude(values: Float32Array, size = 28): Float32Array {
  const out = new Float32Array(values.length);
  const k = [1, 2, 1];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let s = 0,
        w = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy,
            xx = x + dx;
          if (yy < 0 || yy >= size || xx < 0 || xx >= size) continue;
          const kw = k[dy + 1] * k[dx + 1];
          s += kw * Math.abs(values[yy * size + xx]);
          w += kw;
        }
      out[y * size + x] = s / w;
    }
  return out;
}

export const METHODS: MethodGuide[] = [
  {
    method: 'integrated-gradients',
    name: 'Integrated gradients',
    shows: 'how much each pixel adds to the score on the way from a blank pad to your drawing',
    read:
      'Red ink made the model more sure of this class, blue ink less sure. Only your ink is coloured: a blank pad ' +
      'is the starting point, so empty pixels add nothing.',
    signed: true,
    gradient: true,
    options: { samples: 32, integration: 'gauss-legendre' },
  },
  {
    method: 'smoothgrad',
    name: 'SmoothGrad',
    shows:
      'the gradient averaged over 64 noisy copies of your drawing (noise: 15 % of the pixel range), as a magnitude',
    read:
      'Bright places are where changing the ink would change the score most, whichever way. It says where the ' +
      'model is sensitive, not whether the ink there speaks for or against the class.',
    signed: false,
    gradient: true,
    options: { samples: 64, noise: NOISE, seed: 0 },
    display: (v) => Float32Array.from(v, Math.abs),
  },
  {
    method: 'occlusion',
    name: 'Occlusion',
    shows: 'how much the score drops when each 4×4 patch is blanked out',
    read:
      'Red patches hold ink the model needs for this class: covering them lowers the score. Blue patches hold ink ' +
      'that speaks against it: covering them raises the score.',
    signed: true,
    gradient: false,
    options: { window: [4, 4], stride: [4, 4] },
  },
  {
    method: 'grad-cam',
    name: 'Grad-CAM',
    shows: 'which regions the last convolution layer looked at for this class',
    read:
      'Bright regions are where the network found the shapes that make up this class; dark ones did not count. ' +
      'The map is coarse (the last layer sees blocks, not pixels).',
    signed: false,
    gradient: true,
    options: {},
  },
  {
    method: 'kernel-shap',
    name: 'KernelSHAP',
    shows: "Shapley values of 4×4 patches: each patch's fair share of the score",
    read:
      'Each patch gets its share of the score: red patches push toward this class, blue ones away from it. The ' +
      'shares add up to the score of your drawing minus that of a blank pad.',
    signed: true,
    gradient: false,
    options: { samples: 512, seed: 0 },
  },
  {
    method: 'lime',
    name: 'LIME',
    shows: 'a simple linear model of the network around your drawing, by patch',
    read:
      'Red patches raise the score of this class when they are kept, blue ones lower it. It is an approximation ' +
      'fitted to random partial drawings, so small differences mean little.',
    signed: true,
    gradient: false,
    options: { samples: 300, seed: 0 },
  },
  {
    method: 'saliency',
    name: 'Saliency',
    shows: "the size of the gradient, averaged with each pixel's neighbours",
    read:
      'Bright places are where a small change in ink would change the score most. Single-pixel gradients are ' +
      'noisy, so each pixel is shown averaged with its neighbours; it says where, not which way.',
    signed: false,
    gradient: true,
    options: {},
    display: (v) => smoothMagnitude(v),
  },
];

export const guideOf = (m: MethodName): MethodGuide => METHODS.find((g) => g.method === m) ?? METHODS[0];
