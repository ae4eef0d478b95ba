import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { Conv2DAttrs, Conv2DGradAttrs } from '../../kernel-attrs.js';
import { convOutHW } from '../../shapes.js';
import type { WasmBackend } from '../wasm-backend.js';
import type { KernelExports } from '../exports.js';

/** dwConvGradInput's parameters without the first (input) and last (output) pointers: the same in all three. */
type Between = Parameters<KernelExports['dwConvGradInput']> extends [number, ...infer R, number] ? R : never;

/**
 * Depthwise convolution (groups = C > 1, one input channel per group, `mult` = O / C filters each) on the direct
 * kernels of wasm/kernels/depthwise.ts, one image per call: grouped im2col would run C GEMMs of [mult × kh·kw] by
 * [kh·kw × OH·OW], all call and copy overhead.
 */
export const isDepthwise = (x: readonly number[], a: Conv2DAttrs) => a.groups > 1 && a.groups === x[1];

function geometry(x: readonly number[], w: readonly number[], a: Conv2DAttrs) {
  const [N, C, H, W] = x,
    [O, , kh, kw] = w;
  const [OH, OW] = convOutHW(H, W, kh, kw, a);
  /** the arguments every depthwise kernel takes between its first pointer and its last */
  const args = (p: number): Between => [C, H, W, O / C, p, kh, kw, ...a.stride, ...a.pad, ...a.dilation, OH, OW];
  return { N, O, OH, OW, args, image: C * H * W * 4, outImage: O * OH * OW * 4 };
}

export function depthwiseWasm(b: WasmBackend, x: Tensor, w: Tensor, a: Conv2DAttrs): Tensor {
  const g = geometry(x.shape, w.shape, a);
  const out = makeTensor(b, [g.N, g.O, g.OH, g.OW]);
  const [, , , , , kh, kw, sh, sw, , , dh, dw] = g.args(0);
  // the padded plane dwConv reads (its doc): rows the outputs reach, columns with 8 floats of slack
  const pad = b.scratchPtr(((g.OH - 1) * sh + (kh - 1) * dh + 1) * ((g.OW - 1) * sw + (kw - 1) * dw + 9) * 4, 1);
  const px = b.ptr(x.storage),
    py = b.ptr(out.storage),
    args = g.args(b.ptr(w.storage));
  for (let n = 0; n < g.N; n++) b.k.dwConv(px + n * g.image, ...args, py + n * g.outImage, pad);
  return out;
}

export function depthwiseInputGradWasm(b: WasmBackend, dy: Tensor, w: Tensor, a: Conv2DGradAttrs): Tensor {
  const g = geometry(a.shape, w.shape, a);
  const out = makeTensor(b, a.shape);
  const pdy = b.ptr(dy.storage),
    pdx = b.ptr(out.storage),
    args = g.args(b.ptr(w.storage));
  for (let n = 0; n < g.N; n++) b.k.dwConvGradInput(pdy + n * g.outImage, ...args, pdx + n * g.image);
  return out;
}

export function depthwiseFilterGradWasm(b: WasmBackend, x: Tensor, dy: Tensor, a: Conv2DGradAttrs): Tensor {
  const g = geometry(x.shape, a.shape, a);
  const out = makeTensor(b, a.shape);
  const px = b.ptr(x.storage),
    pdy = b.ptr(dy.storage),
    pdw = b.ptr(out.storage);
  if (g.N === 0) b.view(out.storage).fill(0);
  for (let n = 0; n < g.N; n++) b.k.dwConvGradFilter(px + n * g.image, ...g.args(pdy + n * g.outImage), pdw, +(n > 0));
  return out;
}
