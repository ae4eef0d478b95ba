import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { convOutSize, type Conv2DAttrs, type Conv2DGradAttrs } from '../../js/kernels/conv2d.js';
import type { WasmBackend } from '../wasm-backend.js';
import { gemm } from './matmul.js';

/** Convolution as GEMM: per image, im2col then W [O, C·kh·kw] · col [C·kh·kw, OH·OW] lands in NCHW directly. */
function geometry(b: WasmBackend, x: readonly number[], w: readonly number[], a: Conv2DAttrs) {
  const [N, C, H, W] = x, [O, , kh, kw] = w;
  const OH = convOutSize(H, kh, a.stride[0], a.pad[0]), OW = convOutSize(W, kw, a.stride[1], a.pad[1]);
  const CKK = C * kh * kw, P = OH * OW;
  const toCol = (xPtr: number, col: number) =>
    b.k.im2col(xPtr, C, H, W, kh, kw, a.stride[0], a.stride[1], a.pad[0], a.pad[1], OH, OW, col);
  const fromCol = (col: number, xPtr: number) =>
    b.k.col2im(col, C, H, W, kh, kw, a.stride[0], a.stride[1], a.pad[0], a.pad[1], OH, OW, xPtr);
  return { N, C, H, W, O, OH, OW, CKK, P, toCol, fromCol };
}

export function conv2dWasm(b: WasmBackend, [x, w]: readonly Tensor[], attrs: Conv2DAttrs): Tensor {
  const g = geometry(b, x.shape, w.shape, attrs);
  const out = makeTensor(b, [g.N, g.O, g.OH, g.OW]);
  const col = b.scratchPtr(g.CKK * g.P * 4, 1);
  const px = b.ptr(x.storage), pw = b.ptr(w.storage), py = b.ptr(out.storage);
  for (let n = 0; n < g.N; n++) {
    g.toCol(px + n * g.C * g.H * g.W * 4, col);
    gemm(b, false, false, g.O, g.P, g.CKK, pw, g.CKK, col, g.P, py + n * g.O * g.P * 4, g.P, false);
  }
  return out;
}

/** dx: per image, col = Wᵀ · dy, then col2im. */
export function conv2dBackpropInputWasm(b: WasmBackend, [dy, w]: readonly Tensor[], attrs: Conv2DGradAttrs): Tensor {
  const g = geometry(b, attrs.shape, w.shape, attrs);
  const out = makeTensor(b, attrs.shape);
  const col = b.scratchPtr(g.CKK * g.P * 4, 1);
  const pdy = b.ptr(dy.storage), pw = b.ptr(w.storage), pdx = b.ptr(out.storage);
  for (let n = 0; n < g.N; n++) {
    gemm(b, true, false, g.CKK, g.P, g.O, pw, g.CKK, pdy + n * g.O * g.P * 4, g.P, col, g.P, false);
    g.fromCol(col, pdx + n * g.C * g.H * g.W * 4);
  }
  return out;
}

/** dw = Σ over images of dy [O, P] · colᵀ [P, C·kh·kw]. */
export function conv2dBackpropFilterWasm(b: WasmBackend, [x, dy]: readonly Tensor[], attrs: Conv2DGradAttrs): Tensor {
  const g = geometry(b, x.shape, attrs.shape, attrs);
  const out = makeTensor(b, attrs.shape);
  const col = b.scratchPtr(g.CKK * g.P * 4, 1);
  const px = b.ptr(x.storage), pdy = b.ptr(dy.storage), pdw = b.ptr(out.storage);
  if (g.N === 0) b.view(out.storage).fill(0);
  for (let n = 0; n < g.N; n++) {
    g.toCol(px + n * g.C * g.H * g.W * 4, col);
    gemm(b, false, true, g.O, g.CKK, g.P, pdy + n * g.O * g.P * 4, g.P, col, g.P, pdw, g.CKK, n > 0);
  }
  return out;
}
