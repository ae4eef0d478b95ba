import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { Conv2DAttrs, Conv2DGradAttrs } from '../../kernel-attrs.js';
import { convOutHW } from '../../shapes.js';
import type { WasmBackend } from '../wasm-backend.js';
import { GEMM_SPLIT_MIN, gemm } from './matmul.js';
import { ranges } from '../split.js';
import { depthwiseFilterGradWasm, depthwiseInputGradWasm, depthwiseWasm, isDepthwise } from './depthwise.js';

/**
 * Convolution as GEMM over a chunk of images at once (grouped: one GEMM per group on that group's channels; depthwise
 * has its own direct kernels, depthwise.ts): im2col lays the chunk's columns side by side in one
 * matrix [C·kh·kw, nb·OH·OW], so the GEMM's N stays large even for 7×7 maps (one GEMM per image would have
 * N = 49). Outputs move between the GEMM's [O, nb·P] layout and NCHW [nb, O, P] with row copies.
 */
const TARGET_COLUMNS = 1024;
const MAX_COL_BYTES = 16 << 20;
/**
 * With threads, im2col/col2im (split over channels) and the Winograd transforms (split over images) run on every
 * thread from this many floats written; the GEMMs split in matmul.ts.
 */
const SPLIT_MIN = 1 << 16;

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
  const image = C * H * W * 4;
  /** byte offsets of group g's input channels within an image and its filters within the weight */
  const inOf = (g: number) => g * Cg * H * W * 4,
    wOf = (g: number) => g * Og * CKK * 4;
  /**
   * im2col (col2im) of `n` images from `xPtr` (into `col`, image i at column i·P), image after image (`count`,
   * `step`): in one thread all channels; with threads, each takes a range of the group's channels (its own planes
   * of x, its own rows of col).
   */
  const plane = H * W * 4,
    rows = kh * kw * 4,
    taps = [H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW],
    still = taps.map(() => 0);
  const channels = (n: number) =>
    b.threads > 1 && n * P * CKK >= SPLIT_MIN ? ranges(Cg, b.threads, 1) : [[0, Cg] as [number, number]];
  const toCols = (xPtr: number, col: number, n: number, ld: number) => {
    const step = [image, 0, ...still, P * 4, 0];
    const args = (c0: number, c1: number) => [xPtr + c0 * plane, c1 - c0, ...taps, col + c0 * rows * ld, ld];
    b.runParts(channels(n).map(([c0, c1]) => ({ fn: 'im2col' as const, args: args(c0, c1), count: n, step })));
  };
  const fromCols = (col: number, xPtr: number, n: number, ld: number) => {
    const step = [P * 4, 0, ...still, image, 0];
    const args = (c0: number, c1: number) => [col + c0 * rows * ld, c1 - c0, ...taps, xPtr + c0 * plane, ld];
    b.runParts(channels(n).map(([c0, c1]) => ({ fn: 'col2im' as const, args: args(c0, c1), count: n, step })));
  };
  return { N, C, H, W, O, G, Og, OH, OW, P, CKK, nb, toCols, fromCols, inOf, wOf, image };
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
  // The transforms go in groups of 4 tiles, and an image's last group may write up to 3 columns past its tiles
  // (winograd.ts). One thread writes the images in order, so the next image overwrites them; threads each take a
  // range of images, so each image gets those columns of its own (a few columns more of GEMM).
  const threaded = b.threads > 1 && N > 1 && N * Q * H * W >= SPLIT_MIN;
  const cols = threaded ? tiles + ((4 - (tW % 4)) % 4) : tiles;
  const nb = Math.max(1, Math.min(N, Math.floor(MAX_COL_BYTES / (16 * (P + Q) * cols * 4))));
  // 4 columns of slack after the chunk's tiles
  const ld = nb * cols + 4;
  const padBytes = (2 * tH + 2) * ((2 * tW + 11) & ~3) * 4;
  const v = b.scratchPtr(16 * Q * ld * 4, 2),
    m = b.scratchPtr(16 * P * ld * 4, 3);
  // each thread's padded plane, then 64 bytes for winoOutput's partial groups
  const work = (part: number) => b.partScratch(part, padBytes + 64, 4);
  const image = Q * H * W * 4,
    out = P * OH * OW * 4;
  for (let n0 = 0; n0 < N; n0 += nb) {
    const n = Math.min(nb, N - n0),
      T = n * cols;
    // with threads, a range of images each (and its own padded plane and spill); else all of them here
    const parts = threaded ? ranges(n, b.threads, 1) : [[0, n] as [number, number]];
    b.runParts(
      parts.map(([i0, i1], t) => ({
        fn: 'winoInput' as const,
        args: [src + (n0 + i0) * image, Q, H, W, pad[0], pad[1], tH, tW, v, ld, i0 * cols, work(t)],
        count: i1 - i0,
        step: [image, 0, 0, 0, 0, 0, 0, 0, 0, 0, cols, 0],
      })),
    );
    // 16 independent products M_ξ = U_ξ·V_ξ: with threads each takes a range of them whole (one round trip, and
    // each product computed as one thread computes it), not each product split over every thread (16 round trips,
    // and each small product packed again per thread: slower than one thread for 64×32 channels)
    const products = b.threads > 1 && 16 * P * T * Q >= GEMM_SPLIT_MIN ? ranges(16, b.threads, 1) : [[0, 16]];
    const bytes = b.k.gemmWorkBytes(P, T, Q);
    b.runParts(
      products.map(([x0, x1], t) => ({
        fn: 'gemm' as const,
        args: [0, 0, P, T, Q, u + x0 * P * Q * 4, Q, v + x0 * Q * ld * 4, ld, m + x0 * P * ld * 4, ld, 0].concat(
          b.partScratch(t, bytes),
        ),
        count: x1 - x0,
        step: [0, 0, 0, 0, 0, P * Q * 4, 0, Q * ld * 4, 0, P * ld * 4, 0, 0, 0],
      })),
    );
    b.runParts(
      parts.map(([i0, i1], t) => ({
        fn: 'winoOutput' as const,
        args: [m, P, OH, OW, tH, tW, ld, i0 * cols, dst + (n0 + i0) * out, work(t) + padBytes],
        count: i1 - i0,
        step: [0, 0, 0, 0, 0, 0, 0, cols, out, 0],
      })),
    );
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
      g.toCols(px + n0 * g.image + g.inOf(k), col, n, ld);
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
      g.fromCols(col, pdx + n0 * g.image + g.inOf(k), n, ld);
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
      g.toCols(px + n0 * g.image + g.inOf(k), col, n, ld);
      const dwk = pdw + g.wOf(k);
      gemm(b, false, true, g.Og, g.CKK, ld, src + k * g.Og * ld * 4, ld, col, ld, dwk, g.CKK, n0 > 0);
    }
  }
  return out;
}
