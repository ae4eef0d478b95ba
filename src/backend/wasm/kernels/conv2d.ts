import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { Conv2DAttrs, Conv2DGradAttrs } from '../../kernel-attrs.js';
import { convOutHW } from '../../shapes.js';
import type { WasmBackend } from '../wasm-backend.js';
import { gemm } from './matmul.js';
import { depthwiseFilterGradWasm, depthwiseInputGradWasm, depthwiseWasm, isDepthwise } from './depthwise.js';

/**
 * Convolution as GEMM over a chunk of images at once (grouped: one GEMM per group on that group's channels; depthwise
 * has its own direct kernels, depthwise.ts): im2col lays the chunk's columns side by side in one
 * matrix [C·kh·kw, nb·OH·OW], so the GEMM's N stays large even for 7×7 maps (one GEMM per image would have
 * N = 49). Outputs move between the GEMM's [O, nb·P] layout and NCHW [nb, O, P] with row copies.
 */
const TARGET_COLUMNS = 1024;
const MAX_COL_BYTES = 16 << 20;

function geometry(b: WasmBackend, x: readonly number[], w: readonly number[], a: Conv2DAttrs) {
  const [N, C, H, W] = x,
    [O, , kh, kw] = w;
  const [sh, sw] = a.stride,
    [ph, pw] = a.pad,
    [dh, dw] = a.dilation;
  const [OH, OW] = convOutHW(H, W, kh, kw, a);
  const G = a.groups,
    Cg = C / G,
    Og = O / G;
  // one group's im2col matrix [Cg·kh·kw, nb·P]; the groups' GEMMs take turns on it
  const CKK = Cg * kh * kw,
    P = OH * OW;
  const nb = Math.max(1, Math.min(N, Math.ceil(TARGET_COLUMNS / P), Math.floor(MAX_COL_BYTES / (4 * CKK * P))));
  const toCol = (xPtr: number, col: number, ld: number) =>
    b.k.im2col(xPtr, Cg, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, col, ld);
  const fromCol = (col: number, xPtr: number, ld: number) =>
    b.k.col2im(col, Cg, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, xPtr, ld);
  /** byte offsets of group g's input channels within an image and its filters within the weight */
  const inOf = (g: number) => g * Cg * H * W * 4,
    wOf = (g: number) => g * Og * CKK * 4;
  return { N, C, H, W, O, G, Og, OH, OW, P, CKK, nb, toCol, fromCol, inOf, wOf, image: C * H * W * 4 };
}

/** Copies between NCHW [n, O, P] (at `nchw`) and the GEMM layout [O, n·P] (at `wide`), one P-row at a time. */
function shuffle(b: WasmBackend, nchw: number, wide: number, n: number, O: number, P: number, toWide: boolean): void {
  const heap = b.heapF32();
  for (let i = 0; i < n; i++)
    for (let o = 0; o < O; o++) {
      const a = (nchw >> 2) + (i * O + o) * P,
        w = (wide >> 2) + o * n * P + i * P;
      if (toWide) heap.copyWithin(w, a, a + P);
      else heap.copyWithin(a, w, w + P);
    }
}

/**
 * Winograd F(2×2, 3×3) (wasm/kernels/winograd.ts) for 3×3 stride-1 convolutions with at least 8 channels on both
 * sides: 16 GEMMs [P × Q]·[Q × tiles] replace one [P × 9Q]·[9Q × pixels], 2.25× fewer products. `src` holds
 * images [N][Q][H][W]; the result [N][P][OH][OW] goes to `dst`. flip: the input gradient (filters transposed in
 * their channels and rotated, `pad` = 2 − the forward padding).
 */
const WINOGRAD_MIN_CHANNELS = 8;
const winogradFits = (w: readonly number[], a: Conv2DAttrs) =>
  w[2] === 3 &&
  w[3] === 3 &&
  a.stride[0] === 1 &&
  a.stride[1] === 1 &&
  a.dilation[0] === 1 &&
  a.dilation[1] === 1 &&
  a.groups === 1 &&
  a.padEnd[0] === a.pad[0] &&
  a.padEnd[1] === a.pad[1] &&
  w[0] >= WINOGRAD_MIN_CHANNELS &&
  w[1] >= WINOGRAD_MIN_CHANNELS;

function winograd(
  b: WasmBackend,
  src: number,
  N: number,
  Q: number,
  H: number,
  W: number,
  P: number,
  pad: readonly number[],
  wPtr: number,
  O: number,
  C: number,
  flip: boolean,
  dst: number,
): void {
  const OH = H + 2 * pad[0] - 2,
    OW = W + 2 * pad[1] - 2,
    tH = Math.ceil(OH / 2),
    tW = Math.ceil(OW / 2),
    tiles = tH * tW;
  const u = b.scratchPtr(16 * P * Q * 4, 1);
  b.k.winoFilter(wPtr, O, C, +flip, u);
  const nb = Math.max(1, Math.min(N, Math.floor(MAX_COL_BYTES / (16 * (P + Q) * tiles * 4))));
  // 4 columns of slack after the chunk's tiles: the transforms run in groups of 4 tiles (see winograd.ts)
  const ld = nb * tiles + 4;
  const v = b.scratchPtr(16 * Q * ld * 4, 2),
    m = b.scratchPtr(16 * P * ld * 4, 3),
    pad2d = b.scratchPtr((2 * tH + 2) * ((2 * tW + 11) & ~3) * 4, 4);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const n = Math.min(nb, N - n0),
      T = n * tiles;
    for (let i = 0; i < n; i++)
      b.k.winoInput(src + (n0 + i) * Q * H * W * 4, Q, H, W, pad[0], pad[1], tH, tW, v, ld, i * tiles, pad2d);
    for (let xi = 0; xi < 16; xi++)
      gemm(b, false, false, P, T, Q, u + xi * P * Q * 4, Q, v + xi * Q * ld * 4, ld, m + xi * P * ld * 4, ld, false);
    for (let i = 0; i < n; i++) b.k.winoOutput(m, P, OH, OW, tH, tW, ld, i * tiles, dst + (n0 + i) * P * OH * OW * 4);
  }
}

export function conv2dWasm(b: WasmBackend, [x, w]: readonly Tensor[], attrs: Conv2DAttrs): Tensor {
  if (winogradFits(w.shape, attrs)) {
    const [N, C, H, W] = x.shape,
      O = w.shape[0];
    const out = makeTensor(b, [N, O, H + 2 * attrs.pad[0] - 2, W + 2 * attrs.pad[1] - 2]);
    winograd(b, b.ptr(x.storage), N, C, H, W, O, attrs.pad, b.ptr(w.storage), O, C, false, b.ptr(out.storage));
    return out;
  }
  if (isDepthwise(x.shape, attrs)) return depthwiseWasm(b, x, w, attrs);
  const g = geometry(b, x.shape, w.shape, attrs);
  const out = makeTensor(b, [g.N, g.O, g.OH, g.OW]);
  const px = b.ptr(x.storage),
    pw = b.ptr(w.storage),
    py = b.ptr(out.storage);
  const col = b.scratchPtr(g.CKK * g.nb * g.P * 4, 1),
    wide = g.nb > 1 ? b.scratchPtr(g.O * g.nb * g.P * 4, 2) : 0;
  for (let n0 = 0; n0 < g.N; n0 += g.nb) {
    const n = Math.min(g.nb, g.N - n0),
      ld = n * g.P;
    // group k's filters [Og, CKK] times its columns give rows k·Og … of the output, in either layout
    for (let k = 0; k < g.G; k++) {
      for (let i = 0; i < n; i++) g.toCol(px + (n0 + i) * g.image + g.inOf(k), col + i * g.P * 4, ld);
      const dst = (n > 1 ? wide : py + n0 * g.O * g.P * 4) + k * g.Og * ld * 4;
      gemm(b, false, false, g.Og, ld, g.CKK, pw + g.wOf(k), g.CKK, col, ld, dst, ld, false);
    }
    if (n > 1) shuffle(b, py + n0 * g.O * g.P * 4, wide, n, g.O, g.P, false);
  }
  return out;
}

/** dx: per chunk, col = Wᵀ · dy [O, n·P], then col2im into each image. */
export function conv2dBackpropInputWasm(b: WasmBackend, [dy, w]: readonly Tensor[], attrs: Conv2DGradAttrs): Tensor {
  if (winogradFits(w.shape, attrs) && attrs.pad[0] <= 2 && attrs.pad[1] <= 2) {
    const [N, C] = attrs.shape,
      [, O, OH, OW] = dy.shape;
    const out = makeTensor(b, attrs.shape);
    winograd(
      b,
      b.ptr(dy.storage),
      N,
      O,
      OH,
      OW,
      C,
      [2 - attrs.pad[0], 2 - attrs.pad[1]],
      b.ptr(w.storage),
      O,
      C,
      true,
      b.ptr(out.storage),
    );
    return out;
  }
  if (isDepthwise(attrs.shape, attrs)) return depthwiseInputGradWasm(b, dy, w, attrs);
  const g = geometry(b, attrs.shape, w.shape, attrs);
  const out = makeTensor(b, attrs.shape);
  const pdy = b.ptr(dy.storage),
    pw = b.ptr(w.storage),
    pdx = b.ptr(out.storage);
  const col = b.scratchPtr(g.CKK * g.nb * g.P * 4, 1),
    wide = g.nb > 1 ? b.scratchPtr(g.O * g.nb * g.P * 4, 2) : 0;
  for (let n0 = 0; n0 < g.N; n0 += g.nb) {
    const n = Math.min(g.nb, g.N - n0),
      ld = n * g.P;
    let src = pdy + n0 * g.O * g.P * 4;
    if (n > 1) {
      shuffle(b, src, wide, n, g.O, g.P, true);
      src = wide;
    }
    // group k: its filters transposed times its rows of dy, into its input channels
    for (let k = 0; k < g.G; k++) {
      gemm(b, true, false, g.CKK, ld, g.Og, pw + g.wOf(k), g.CKK, src + k * g.Og * ld * 4, ld, col, ld, false);
      for (let i = 0; i < n; i++) g.fromCol(col + i * g.P * 4, pdx + (n0 + i) * g.image + g.inOf(k), ld);
    }
  }
  return out;
}

/** dw = Σ over chunks of dy [O, n·P] · colᵀ [n·P, C·kh·kw]. */
export function conv2dBackpropFilterWasm(b: WasmBackend, [x, dy]: readonly Tensor[], attrs: Conv2DGradAttrs): Tensor {
  if (isDepthwise(x.shape, attrs)) return depthwiseFilterGradWasm(b, x, dy, attrs);
  const g = geometry(b, x.shape, attrs.shape, attrs);
  const out = makeTensor(b, attrs.shape);
  const px = b.ptr(x.storage),
    pdy = b.ptr(dy.storage),
    pdw = b.ptr(out.storage);
  const col = b.scratchPtr(g.CKK * g.nb * g.P * 4, 1),
    wide = g.nb > 1 ? b.scratchPtr(g.O * g.nb * g.P * 4, 2) : 0;
  if (g.N === 0) b.view(out.storage).fill(0);
  for (let n0 = 0; n0 < g.N; n0 += g.nb) {
    const n = Math.min(g.nb, g.N - n0),
      ld = n * g.P;
    let src = pdy + n0 * g.O * g.P * 4;
    if (n > 1) {
      shuffle(b, src, wide, n, g.O, g.P, true);
      src = wide;
    }
    // group k: its rows of dy times its columns transposed give its filters [Og, CKK]
    for (let k = 0; k < g.G; k++) {
      for (let i = 0; i < n; i++) g.toCol(px + (n0 + i) * g.image + g.inOf(k), col + i * g.P * 4, ld);
      const dwk = pdw + g.wOf(k);
      gemm(b, false, true, g.Og, g.CKK, ld, src + k * g.Og * ld * 4, ld, col, ld, dwk, g.CKK, n0 > 0);
    }
  }
  return out;
}
