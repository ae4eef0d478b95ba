// Packed, register-blocked single-precision GEMM (BLIS / XNNPACK style).
//
//   C[M×N] = op(A)[M×K] · op(B)[K×N]  (+ C when accumulate ≠ 0)
//
// Loop nest (BLIS order): jc over N in NC columns → pc over K in KC steps
// (pack the KC×NC block of op(B) into 8-column panels) → ic over M in MC rows
// (pack the MC×KC block of op(A) into 6-row, pre-broadcast panels) → jr over
// 8-column panels → ir over 6-row panels → 6×8 micro-kernel.
// Packing absorbs the transposes and zero-pads the M/N tails, so the
// micro-kernel never branches on shape; only the store of an edge tile is
// masked.
//
// A 6×8 tile = 12 f32x4 accumulators + 2 B vectors + 1 A vector = 15 registers,
// exactly the 15 allocatable XMM registers of V8 on x64 (xmm15 is its scratch).
// 12 independent accumulator chains (not 8 as in a 4×8 tile) hide the 4-cycle
// FMA latency on a 2-FMA-port core with slack, and the tile needs 8 loads per
// 12 FMAs instead of 6 per 8.
//
// The k loop is deliberately NOT unrolled: with an unrolled body Binaryen's
// -O3 (simplify-locals) nests each accumulator's updates into one expression
// tree, so V8 must keep every step's loads alive at once and spills.

import { madd } from "./simd";

/** Rows per micro-tile. */
const MR: i32 = 6;
/** K block. */
const KC: i32 = 128;
/** M block (multiple of MR): MC×KC pre-broadcast A = 240 KiB, L2-resident. */
const MC: i32 = 120;
/** N block: KC×NC packed B = 1 MiB at most. */
const NC: i32 = 2048;

/** Bytes at the start of the work area for one edge tile (6×8 f32, rounded to
 *  64): per call, not static data, so threads sharing one memory each spill
 *  into their own. */
const TILE_BYTES: usize = 256;

// @ts-ignore: decorator
@inline function min(a: i32, b: i32): i32 { return a < b ? a : b; }

/** Bytes of scratch gemm() needs for these sizes (independent of the
 *  transpose flags): the edge tile, then packed B, then packed A; all three
 *  are multiples of 64 B, so a 64-byte aligned work pointer keeps each
 *  64-byte aligned. */
export function gemmWorkBytes(M: i32, N: i32, K: i32): usize {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  const kc = min(K, KC);
  const nc = (min(N, NC) + 7) & ~7;
  const mc = (min(M, MC) + MR - 1) / MR * MR;
  const bBytes = (<usize>(kc * nc * 4) + 63) & ~<usize>63;
  const aBytes = <usize>(kc * mc) << 4; // pre-broadcast: 16 B per value
  return TILE_BYTES + bBytes + aBytes;
}

/** 6×8 micro-kernel on packed panels.
 *  pa: kc groups of 6 broadcast vectors (one per row); pb: kc groups of 8 f32.
 *  Writes the mr×nr valid part of the tile to c (ldc in bytes), adding the old
 *  C when beta ≠ 0. */
function kernel6x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, beta: i32,
  tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  let a: v128, b0: v128, b1: v128;
  let k = kc;
  while (k > 0) {
    b0 = load<v128>(pb, 0); b1 = load<v128>(pb, 16);
    a = load<v128>(pa, 0); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = load<v128>(pa, 16); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = load<v128>(pa, 32); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = load<v128>(pa, 48); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = load<v128>(pa, 64); c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    a = load<v128>(pa, 80); c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    pa += 96; pb += 32; k -= 1;
  }
  storeTile(c, ldc, mr, nr, beta, tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
}

/** Same tile, but A read in place from six row pointers (op(A) = A, not
 *  transposed: consecutive k are consecutive floats). Used when a packed A
 *  panel would be reused by too few B panels to repay the packing. Rows past
 *  M repeat a valid row pointer; their results are never stored. */
function kernel6x8Direct(a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, pb: usize, kc: i32,
  c: usize, ldc: usize, mr: i32, nr: i32, beta: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  let a: v128, b0: v128, b1: v128;
  let k = kc;
  while (k > 0) {
    b0 = load<v128>(pb, 0); b1 = load<v128>(pb, 16);
    a = v128.load32_splat(a0); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(a1); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(a2); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(a3); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(a4); c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    a = v128.load32_splat(a5); c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; a4 += 4; a5 += 4; pb += 32; k -= 1;
  }
  storeTile(c, ldc, mr, nr, beta, tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
}

// @ts-ignore: decorator
@inline function storeTile(c: usize, ldc: usize, mr: i32, nr: i32, beta: i32, tile: usize,
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128,
  c30: v128, c31: v128, c40: v128, c41: v128, c50: v128, c51: v128): void {
  if (mr == 6 && nr == 8) {
    // Full tile: vector read-modify-write of C (C rows need not be 16-byte
    // aligned; wasm v128 loads/stores are unaligned-safe).
    if (beta) {
      c00 = f32x4.add(c00, load<v128>(c, 0)); c01 = f32x4.add(c01, load<v128>(c, 16));
      c10 = f32x4.add(c10, load<v128>(c + ldc, 0)); c11 = f32x4.add(c11, load<v128>(c + ldc, 16));
      c20 = f32x4.add(c20, load<v128>(c + 2 * ldc, 0)); c21 = f32x4.add(c21, load<v128>(c + 2 * ldc, 16));
      c30 = f32x4.add(c30, load<v128>(c + 3 * ldc, 0)); c31 = f32x4.add(c31, load<v128>(c + 3 * ldc, 16));
      c40 = f32x4.add(c40, load<v128>(c + 4 * ldc, 0)); c41 = f32x4.add(c41, load<v128>(c + 4 * ldc, 16));
      c50 = f32x4.add(c50, load<v128>(c + 5 * ldc, 0)); c51 = f32x4.add(c51, load<v128>(c + 5 * ldc, 16));
    }
    store<v128>(c, c00, 0); store<v128>(c, c01, 16); c += ldc;
    store<v128>(c, c10, 0); store<v128>(c, c11, 16); c += ldc;
    store<v128>(c, c20, 0); store<v128>(c, c21, 16); c += ldc;
    store<v128>(c, c30, 0); store<v128>(c, c31, 16); c += ldc;
    store<v128>(c, c40, 0); store<v128>(c, c41, 16); c += ldc;
    store<v128>(c, c50, 0); store<v128>(c, c51, 16);
  } else {
    // Edge tile: spill to the call's tile, then copy the valid part.
    store<v128>(tile, c00, 0); store<v128>(tile, c01, 16);
    store<v128>(tile, c10, 32); store<v128>(tile, c11, 48);
    store<v128>(tile, c20, 64); store<v128>(tile, c21, 80);
    store<v128>(tile, c30, 96); store<v128>(tile, c31, 112);
    store<v128>(tile, c40, 128); store<v128>(tile, c41, 144);
    store<v128>(tile, c50, 160); store<v128>(tile, c51, 176);
    for (let r = 0; r < mr; r++) {
      const src = tile + (<usize>r << 5);
      const dst = c + <usize>r * ldc;
      for (let j = 0; j < nr; j++) {
        let v = load<f32>(src + (<usize>j << 2));
        if (beta) v += load<f32>(dst + (<usize>j << 2));
        store<f32>(dst + (<usize>j << 2), v);
      }
    }
  }
}

/** Pack rows [i0, i0+mc) × k [k0, k0+kc) of op(A) into MR-row panels, each
 *  value pre-broadcast to a full f32x4: panel p holds, for each k, MR vectors
 *  splat(op(A)[i0+MR·p+r][k]) for r = 0..MR-1 (zero rows past M).
 *  Pre-broadcasting costs 4× the packed-A space (still L2-resident) but lets
 *  the micro-kernel use plain v128 loads with immediate offsets: V8 11 does not
 *  fold the offset of v128.load32_splat into the address, which cost an extra
 *  lea per broadcast in the inner loop. */
function packA(transA: i32, a: usize, lda: i32, i0: i32, mc: i32, k0: i32, kc: i32, pa: usize): void {
  const ldaB = <usize>lda << 2;
  const step: usize = <usize>MR << 4;
  for (let p = 0; p < mc; p += MR) {
    const rows = min(MR, mc - p);
    const i = i0 + p;
    if (transA) {
      // A is K×M: the rows of one k are contiguous.
      let src = a + <usize>k0 * ldaB + (<usize>i << 2);
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          const v = v128.load(src);
          v128.store(pa, i32x4.shuffle(v, v, 0, 0, 0, 0), 0);
          v128.store(pa, i32x4.shuffle(v, v, 1, 1, 1, 1), 16);
          v128.store(pa, i32x4.shuffle(v, v, 2, 2, 2, 2), 32);
          v128.store(pa, i32x4.shuffle(v, v, 3, 3, 3, 3), 48);
          v128.store(pa, v128.load32_splat(src, 16), 64);
          v128.store(pa, v128.load32_splat(src, 20), 80);
          src += ldaB; pa += step;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            v128.store(pa + (<usize>r << 4), r < rows ? v128.load32_splat(src + (<usize>r << 2)) : f32x4.splat(0));
          }
          src += ldaB; pa += step;
        }
      }
    } else {
      // A is M×K: walk each row, 4 k at a time, scattering lane broadcasts.
      for (let r = 0; r < MR; r++) {
        let dst = pa + (<usize>r << 4);
        if (r >= rows) {
          for (let k = 0; k < kc; k++) { v128.store(dst, f32x4.splat(0)); dst += step; }
          continue;
        }
        let src = a + <usize>(i + r) * ldaB + (<usize>k0 << 2);
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const v = v128.load(src);
          v128.store(dst, i32x4.shuffle(v, v, 0, 0, 0, 0), 0);
          v128.store(dst, i32x4.shuffle(v, v, 1, 1, 1, 1), 1 * MR * 16);
          v128.store(dst, i32x4.shuffle(v, v, 2, 2, 2, 2), 2 * MR * 16);
          v128.store(dst, i32x4.shuffle(v, v, 3, 3, 3, 3), 3 * MR * 16);
          src += 16; dst += step << 2;
        }
        for (; k < kc; k++) { v128.store(dst, v128.load32_splat(src)); src += 4; dst += step; }
      }
      pa += <usize>kc * step;
    }
  }
}
/** Pack k [k0, k0+kc) × columns [j0, j0+nc) of op(B) into 8-column panels:
 *  panel q holds, for each k, the 8 values of columns j0+8q.. (zero past N). */
function packB(transB: i32, b: usize, ldb: i32, k0: i32, kc: i32, j0: i32, nc: i32, pb: usize): void {
  const ldbB = <usize>ldb << 2;
  for (let q = 0; q < nc; q += 8) {
    const cols = min(8, nc - q);
    const j = j0 + q;
    if (!transB) {
      // B is K×N: the 8 columns of one k are contiguous.
      let src = b + <usize>k0 * ldbB + (<usize>j << 2);
      if (cols == 8) {
        for (let k = 0; k < kc; k++) {
          v128.store(pb, v128.load(src), 0);
          v128.store(pb, v128.load(src, 16), 16);
          src += ldbB; pb += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(pb, f32x4.splat(0), 0);
          v128.store(pb, f32x4.splat(0), 16);
          for (let c = 0; c < cols; c++) store<f32>(pb + (<usize>c << 2), load<f32>(src + (<usize>c << 2)));
          src += ldbB; pb += 32;
        }
      }
    } else {
      // B is N×K: two 4×4 blocks (columns j..j+3, j+4..j+7) per 4 k, transposed in registers.
      const s0 = b + <usize>j * ldbB + (<usize>k0 << 2);
      if (cols == 8) {
        let k = 0;
        let p = s0;
        for (; k + 4 <= kc; k += 4) {
          for (let h: usize = 0; h < 2; h++) {
            const r0 = p + h * 4 * ldbB;
            const v0 = v128.load(r0), v1 = v128.load(r0 + ldbB), v2 = v128.load(r0 + 2 * ldbB),
              v3 = v128.load(r0 + 3 * ldbB);
            const t0 = f32x4.shuffle(v0, v1, 0, 4, 1, 5);
            const t1 = f32x4.shuffle(v2, v3, 0, 4, 1, 5);
            const t2 = f32x4.shuffle(v0, v1, 2, 6, 3, 7);
            const t3 = f32x4.shuffle(v2, v3, 2, 6, 3, 7);
            const o = pb + (h << 4);
            v128.store(o, f32x4.shuffle(t0, t1, 0, 1, 4, 5), 0);
            v128.store(o, f32x4.shuffle(t0, t1, 2, 3, 6, 7), 32);
            v128.store(o, f32x4.shuffle(t2, t3, 0, 1, 4, 5), 64);
            v128.store(o, f32x4.shuffle(t2, t3, 2, 3, 6, 7), 96);
          }
          p += 16; pb += 128;
        }
        for (; k < kc; k++) {
          for (let c = 0; c < 8; c++) store<f32>(pb + (<usize>c << 2), load<f32>(p + <usize>c * ldbB));
          p += 4; pb += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(pb, f32x4.splat(0), 0);
          v128.store(pb, f32x4.splat(0), 16);
          for (let c = 0; c < cols; c++)
            store<f32>(pb + (<usize>c << 2), load<f32>(s0 + <usize>c * ldbB + (<usize>k << 2)));
          pb += 32;
        }
      }
    }
  }
}

/** See the module comment. Strides are in elements; pointers are byte offsets. */
export function gemm(transA: i32, transB: i32, M: i32, N: i32, K: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  accumulate: i32, work: usize): void {
  if (M <= 0 || N <= 0) return;
  const ldcB = <usize>ldc << 2;
  if (K <= 0) {
    // op(A)·op(B) is the zero matrix.
    if (!accumulate) {
      for (let i = 0; i < M; i++) memory.fill(c + <usize>i * ldcB, 0, <usize>N << 2);
    }
    return;
  }
  const kcMax = min(K, KC);
  const ncMax = (min(N, NC) + 7) & ~7;
  const tile = work;
  const pb = work + TILE_BYTES;
  const pa = pb + ((<usize>(kcMax * ncMax * 4) + 63) & ~<usize>63);
  const ldaB = <usize>lda << 2;
  // Direct (unpacked) A pays when each A panel would meet only one or two B
  // panels (N ≤ 16): packing A then costs about as much as the multiply.
  const direct = !transA && N <= DIRECT_MAX_N;

  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const beta = pc > 0 || accumulate != 0 ? 1 : 0;
      packB(transB, b, ldb, pc, kc, jc, nc, pb);
      const panelB = <usize>kc << 5;
      const panelA = <usize>kc * (<usize>MR << 4);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        if (!direct) packA(transA, a, lda, ic, mc, pc, kc, pa);
        if (direct) {
          for (let jr = 0; jr < nc; jr += 8) {
            const nr = min(8, nc - jr);
            const bp = pb + <usize>(jr >> 3) * panelB;
            let cp = c + <usize>(ic) * ldcB + (<usize>(jc + jr) << 2);
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = min(MR, mc - ir);
              const a0 = a + <usize>(ic + ir) * ldaB + (<usize>pc << 2);
              const a1 = mr > 1 ? a0 + ldaB : a0;
              const a2 = mr > 2 ? a1 + ldaB : a0;
              const a3 = mr > 3 ? a2 + ldaB : a0;
              const a4 = mr > 4 ? a3 + ldaB : a0;
              const a5 = mr > 5 ? a4 + ldaB : a0;
              kernel6x8Direct(a0, a1, a2, a3, a4, a5, bp, kc, cp, ldcB, mr, nr, beta, tile);
              cp += ldcB * MR;
            }
          }
        } else {
          // The packed A micro-panel (kc·96 B) stays in L1 while the B
          // micro-panels (kc·32 B each) stream from L2: a third of the L2
          // traffic of the opposite order with pre-broadcast A.
          let ap = pa;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            let bp = pb;
            let cp = c + <usize>(ic + ir) * ldcB + (<usize>jc << 2);
            for (let jr = 0; jr < nc; jr += 8) {
              kernel6x8(ap, bp, kc, cp, ldcB, mr, min(8, nc - jr), beta, tile);
              bp += panelB;
              cp += 32;
            }
            ap += panelA;
          }
        }
      }
    }
  }
}

/** Largest N for which A is read in place instead of packed (see gemm). */
const DIRECT_MAX_N: i32 = 16;
