import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { convOutSize, type Conv2DAttrs, type Conv2DGradAttrs } from '../../js/kernels/conv2d.js';
import type { WasmBackend } from '../wasm-backend.js';
import { gemm } from './matmul.js';

/**
 * Convolution as GEMM over a chunk of images at once: im2col lays the chunk's columns side by side in one
 * matrix [C·kh·kw, nb·OH·OW], so the GEMM's N stays large even for 7×7 maps (one GEMM per image would have
 * N = 49). Outputs move between the GEMM's [O, nb·P] layout and NCHW [nb, O, P] with row copies.
 */
const TARGET_COLUMNS = 1024;
const MAX_COL_BYTES = 16 << 20;

function geometry(b: WasmBackend, x: readonly number[], w: readonly number[], a: Conv2DAttrs) {
  const [N, C, H, W] = x, [O, , kh, kw] = w;
  const OH = convOutSize(H, kh, a.stride[0], a.pad[0]), OW = convOutSize(W, kw, a.stride[1], a.pad[1]);
  const CKK = C * kh * kw, P = OH * OW;
  const nb = Math.max(1, Math.min(N, Math.ceil(TARGET_COLUMNS / P), Math.floor(MAX_COL_BYTES / (4 * CKK * P))));
  const toCol = (xPtr: number, col: number, ld: number) =>
    b.k.im2col(xPtr, C, H, W, kh, kw, a.stride[0], a.stride[1], a.pad[0], a.pad[1], OH, OW, col, ld);
  const fromCol = (col: number, xPtr: number, ld: number) =>
    b.k.col2im(col, C, H, W, kh, kw, a.stride[0], a.stride[1], a.pad[0], a.pad[1], OH, OW, xPtr, ld);
  return { N, C, H, W, O, OH, OW, P, CKK, nb, toCol, fromCol, image: C * H * W * 4 };
}

/** Copies between NCHW [n, O, P] (at `nchw`) and the GEMM layout [O, n·P] (at `wide`), one P-row at a time. */
function shuffle(b: WasmBackend, nchw: number, wide: number, n: number, O: number, P: number, toWide: boolean): void {
  const heap = b.heapF32();
  for (let i = 0; i < n; i++) for (let o = 0; o < O; o++) {
    const a = (nchw >> 2) + (i * O + o) * P, w = (wide >> 2) + o * n * P + i * P;
    if (toWide) heap.copyWithin(w, a, a + P); else heap.copyWithin(a, w, w + P);
  }
}

export function conv2dWasm(b: WasmBackend, [x, w]: readonly Tensor[], attrs: Conv2DAttrs): Tensor {
  const g = geometry(b, x.shape, w.shape, attrs);
  const out = makeTensor(b, [g.N, g.O, g.OH, g.OW]);
  const px = b.ptr(x.storage), pw = b.ptr(w.storage), py = b.ptr(out.storage);
  const col = b.scratchPtr(g.CKK * g.nb * g.P * 4, 1), wide = g.nb > 1 ? b.scratchPtr(g.O * g.nb * g.P * 4, 2) : 0;
  for (let n0 = 0; n0 < g.N; n0 += g.nb) {
    const n = Math.min(g.nb, g.N - n0), ld = n * g.P;
    for (let i = 0; i < n; i++) g.toCol(px + (n0 + i) * g.image, col + i * g.P * 4, ld);
    const dst = n > 1 ? wide : py + n0 * g.O * g.P * 4;
    gemm(b, false, false, g.O, ld, g.CKK, pw, g.CKK, col, ld, dst, ld, false);
    if (n > 1) shuffle(b, py + n0 * g.O * g.P * 4, wide, n, g.O, g.P, false);
  }
  return out;
}

/** dx: per chunk, col = Wᵀ · dy [O, n·P], then col2im into each image. */
export function conv2dBackpropInputWasm(b: WasmBackend, [dy, w]: readonly Tensor[], attrs: Conv2DGradAttrs): Tensor {
  const g = geometry(b, attrs.shape, w.shape, attrs);
  const out = makeTensor(b, attrs.shape);
  const pdy = b.ptr(dy.storage), pw = b.ptr(w.storage), pdx = b.ptr(out.storage);
  const col = b.scratchPtr(g.CKK * g.nb * g.P * 4, 1), wide = g.nb > 1 ? b.scratchPtr(g.O * g.nb * g.P * 4, 2) : 0;
  for (let n0 = 0; n0 < g.N; n0 += g.nb) {
    const n = Math.min(g.nb, g.N - n0), ld = n * g.P;
    let src = pdy + n0 * g.O * g.P * 4;
    if (n > 1) { shuffle(b, src, wide, n, g.O, g.P, true); src = wide; }
    gemm(b, true, false, g.CKK, ld, g.O, pw, g.CKK, src, ld, col, ld, false);
    for (let i = 0; i < n; i++) g.fromCol(col + i * g.P * 4, pdx + (n0 + i) * g.image, ld);
  }
  return out;
}

/** dw = Σ over chunks of dy [O, n·P] · colᵀ [n·P, C·kh·kw]. */
export function conv2dBackpropFilterWasm(b: WasmBackend, [x, dy]: readonly Tensor[], attrs: Conv2DGradAttrs): Tensor {
  const g = geometry(b, x.shape, attrs.shape, attrs);
  const out = makeTensor(b, attrs.shape);
  const px = b.ptr(x.storage), pdy = b.ptr(dy.storage), pdw = b.ptr(out.storage);
  const col = b.scratchPtr(g.CKK * g.nb * g.P * 4, 1), wide = g.nb > 1 ? b.scratchPtr(g.O * g.nb * g.P * 4, 2) : 0;
  if (g.N === 0) b.view(out.storage).fill(0);
  for (let n0 = 0; n0 < g.N; n0 += g.nb) {
    const n = Math.min(g.nb, g.N - n0), ld = n * g.P;
    for (let i = 0; i < n; i++) g.toCol(px + (n0 + i) * g.image, col + i * g.P * 4, ld);
    let src = pdy + n0 * g.O * g.P * 4;
    if (n > 1) { shuffle(b, src, wide, n, g.O, g.P, true); src = wide; }
    gemm(b, false, true, g.O, g.CKK, ld, src, ld, col, ld, pdw, g.CKK, n0 > 0);
  }
  return out;
}
