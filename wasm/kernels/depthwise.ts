// Depthwise convolution (groups = C: each group one input channel), one image per call. Output channel
// o = c·mult + m reads input channel c = ⌊o / mult⌋ alone through its own kh×kw filter w[o] (taps dilated by
// dh×dw). No im2col: a group's GEMM would be [mult × kh·kw]·[kh·kw × OH·OW], all overhead. The forward pads each
// input plane once and sums all taps of four outputs in a register; the gradients walk the taps: per tap (i, j) a
// row of dx gains w·(a row of dy), the valid columns [lo, hi) found once per tap, four lanes at a time where the
// stride is 1, and dw[o, i, j] is a dot product.
import { hsum, madd } from "./simd";
import { oxHigh, oxLow } from "./im2col";

// @ts-ignore: decorator
@inline function max(a: i32, b: i32): i32 { return a > b ? a : b; }
// @ts-ignore: decorator
@inline function min(a: i32, b: i32): i32 { return a < b ? a : b; }

/**
 * Input plane xc [H, W] into pp [Hp, ldp]: ph rows and pw columns of zeros before it, zeros after, rows and
 * columns past Hp / ldp left out (no output reads them).
 */
function padPlane(xc: usize, H: i32, W: i32, ph: i32, pw: i32, Hp: i32, ldp: i32, pp: usize): void {
  memory.fill(pp, 0, <usize>(Hp * ldp) << 2);
  const n = min(W, ldp - pw);
  if (n <= 0) return;
  for (let iy = 0; iy < H && iy + ph < Hp; iy++)
    memory.copy(pp + (<usize>((iy + ph) * ldp + pw) << 2), xc + (<usize>(iy * W) << 2), <usize>n << 2);
}

/** Four pixels of a tap's input row from `p`: side by side (stride 1) or the even lanes of eight (stride 2). */
// @ts-ignore: decorator
@inline function taps4(p: usize, sw: i32): v128 {
  return sw == 1 ? v128.load(p) : f32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

/**
 * One output row of a 3×3 depthwise filter at stride 1 or 2, four pixels at a time with the nine weights held in
 * registers; returns the first column left for the scalar tail. Inlined with a constant `sw`, so the stride's
 * branch in taps4 folds away.
 */
// @ts-ignore: decorator
@inline function row3x3(row: usize, tapRow: usize, tapCol: usize, sw: i32, OW: i32, wo: usize, yr: usize): i32 {
  const w0 = f32x4.splat(load<f32>(wo)), w1 = f32x4.splat(load<f32>(wo, 4)), w2 = f32x4.splat(load<f32>(wo, 8));
  const w3 = f32x4.splat(load<f32>(wo, 12)), w4 = f32x4.splat(load<f32>(wo, 16)), w5 = f32x4.splat(load<f32>(wo, 20));
  const w6 = f32x4.splat(load<f32>(wo, 24)), w7 = f32x4.splat(load<f32>(wo, 28)), w8 = f32x4.splat(load<f32>(wo, 32));
  const step = <usize>(4 * sw) << 2;
  let ox = 0, r0 = row;
  for (; ox + 4 <= OW; ox += 4, r0 += step) {
    const r1 = r0 + tapRow, r2 = r1 + tapRow;
    let acc = f32x4.mul(w0, taps4(r0, sw));
    acc = madd(w1, taps4(r0 + tapCol, sw), acc);
    acc = madd(w2, taps4(r0 + 2 * tapCol, sw), acc);
    acc = madd(w3, taps4(r1, sw), acc);
    acc = madd(w4, taps4(r1 + tapCol, sw), acc);
    acc = madd(w5, taps4(r1 + 2 * tapCol, sw), acc);
    acc = madd(w6, taps4(r2, sw), acc);
    acc = madd(w7, taps4(r2 + tapCol, sw), acc);
    acc = madd(w8, taps4(r2 + 2 * tapCol, sw), acc);
    v128.store(yr + (<usize>ox << 2), acc);
  }
  return ox;
}

/**
 * y [C·mult, OH, OW] = Σ over taps of w[o, i, j] · x[⌊o / mult⌋, oy·sh − ph + i·dh, ox·sw − pw + j·dw]. Each input
 * plane is copied once into `pad` with its padding as zeros, then every output row is computed four pixels at a time
 * in a register over all kh·kw taps, with no bounds checks (stride 2: the even lanes of two loads); `pad` holds
 * ((OH − 1)·sh + (kh − 1)·dh + 1) · ((OW − 1)·sw + (kw − 1)·dw + 9) floats.
 */
export function dwConv(x: usize, C: i32, H: i32, W: i32, mult: i32, w: usize, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, dh: i32, dw: i32, OH: i32, OW: i32, y: usize, pad: usize): void {
  const Hp = (OH - 1) * sh + (kh - 1) * dh + 1, ldp = (OW - 1) * sw + (kw - 1) * dw + 9;
  const plane = <usize>(H * W) << 2, oplane = <usize>(OH * OW) << 2;
  const tapRow = <usize>(dh * ldp) << 2, tapCol = <usize>dw << 2;
  for (let c = 0; c < C; c++) {
    padPlane(x + <usize>c * plane, H, W, ph, pw, Hp, ldp, pad);
    for (let m = 0; m < mult; m++) {
      const o = c * mult + m;
      const wo = w + (<usize>(o * kh * kw) << 2), yo = y + <usize>o * oplane;
      for (let oy = 0; oy < OH; oy++) {
        const row = pad + (<usize>(oy * sh * ldp) << 2), yr = yo + (<usize>(oy * OW) << 2);
        let ox = 0;
        if (kh == 3 && kw == 3 && sw == 1) ox = row3x3(row, tapRow, tapCol, 1, OW, wo, yr);
        else if (kh == 3 && kw == 3 && sw == 2) ox = row3x3(row, tapRow, tapCol, 2, OW, wo, yr);
        else if (sw == 1) {
          for (; ox + 4 <= OW; ox += 4) {
            let acc = f32x4.splat(0);
            let r = row + (<usize>ox << 2), wp = wo;
            for (let i = 0; i < kh; i++, r += tapRow) {
              let p = r;
              for (let j = 0; j < kw; j++, p += tapCol, wp += 4)
                acc = madd(f32x4.splat(load<f32>(wp)), v128.load(p), acc);
            }
            v128.store(yr + (<usize>ox << 2), acc);
          }
        } else if (sw == 2) {
          for (; ox + 4 <= OW; ox += 4) {
            let acc = f32x4.splat(0);
            let r = row + (<usize>(2 * ox) << 2), wp = wo;
            for (let i = 0; i < kh; i++, r += tapRow) {
              let p = r;
              for (let j = 0; j < kw; j++, p += tapCol, wp += 4) {
                const even = f32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
                acc = madd(f32x4.splat(load<f32>(wp)), even, acc);
              }
            }
            v128.store(yr + (<usize>ox << 2), acc);
          }
        }
        for (; ox < OW; ox++) {
          let acc: f32 = 0;
          let r = row + (<usize>(ox * sw) << 2), wp = wo;
          for (let i = 0; i < kh; i++, r += tapRow) {
            let p = r;
            for (let j = 0; j < kw; j++, p += tapCol, wp += 4) acc += load<f32>(wp) * load<f32>(p);
          }
          store<f32>(yr + (<usize>ox << 2), acc);
        }
      }
    }
  }
}

/** dx [C, H, W] (zeroed first) gains w[o, i, j] · dy[o, oy, ox] at every pixel tap (i, j) of output (oy, ox) read. */
export function dwConvGradInput(dy: usize, C: i32, H: i32, W: i32, mult: i32, w: usize, kh: i32, kw: i32, sh: i32,
  sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, OH: i32, OW: i32, dx: usize): void {
  const plane = <usize>(H * W) << 2, oplane = <usize>(OH * OW) << 2;
  memory.fill(dx, 0, <usize>C * plane);
  for (let o = 0; o < C * mult; o++) {
    const xc = dx + <usize>(o / mult) * plane, yo = dy + <usize>o * oplane;
    for (let i = 0; i < kh; i++) {
      for (let j0 = 0; j0 < kw; j0++) {
        const j = j0 * dw;
        const lo = min(oxLow(j, sw, pw), OW), hi = max(oxHigh(j, sw, pw, W, OW), lo);
        if (lo >= hi) continue;
        const wv = load<f32>(w + (<usize>((o * kh + i) * kw + j0) << 2)), wq = f32x4.splat(wv);
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * sh - ph + i * dh;
          if (iy < 0 || iy >= H) continue;
          let d = xc + (<usize>(iy * W + lo * sw - pw + j) << 2);
          let s = yo + (<usize>(oy * OW + lo) << 2);
          let ox = lo;
          if (sw == 1) {
            for (; ox + 4 <= hi; ox += 4) {
              v128.store(d, madd(wq, v128.load(s), v128.load(d)));
              d += 16; s += 16;
            }
            for (; ox < hi; ox++) { store<f32>(d, load<f32>(d) + wv * load<f32>(s)); d += 4; s += 4; }
          } else {
            const step = <usize>sw << 2;
            for (; ox < hi; ox++) { store<f32>(d, load<f32>(d) + wv * load<f32>(s)); d += step; s += 4; }
          }
        }
      }
    }
  }
}

/**
 * gw [C·mult, kh, kw]: gw[o, i, j] = Σ over outputs of x[⌊o / mult⌋, iy, ix] · dy[o, oy, ox] for this image, added to
 * what gw holds when `accumulate` is 1 (images after the first), stored when 0.
 */
export function dwConvGradFilter(x: usize, C: i32, H: i32, W: i32, mult: i32, dy: usize, kh: i32, kw: i32, sh: i32,
  sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, OH: i32, OW: i32, gw: usize, accumulate: i32): void {
  const plane = <usize>(H * W) << 2, oplane = <usize>(OH * OW) << 2;
  for (let o = 0; o < C * mult; o++) {
    const xc = x + <usize>(o / mult) * plane, yo = dy + <usize>o * oplane;
    for (let i = 0; i < kh; i++) {
      for (let j0 = 0; j0 < kw; j0++) {
        const j = j0 * dw;
        const lo = min(oxLow(j, sw, pw), OW), hi = max(oxHigh(j, sw, pw, W, OW), lo);
        let accv = f32x4.splat(0);
        let acc: f32 = 0;
        if (lo < hi) {
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * sh - ph + i * dh;
            if (iy < 0 || iy >= H) continue;
            let s = xc + (<usize>(iy * W + lo * sw - pw + j) << 2);
            let t = yo + (<usize>(oy * OW + lo) << 2);
            let ox = lo;
            if (sw == 1) {
              for (; ox + 4 <= hi; ox += 4) { accv = madd(v128.load(s), v128.load(t), accv); s += 16; t += 16; }
              for (; ox < hi; ox++) { acc += load<f32>(s) * load<f32>(t); s += 4; t += 4; }
            } else {
              const step = <usize>sw << 2;
              for (; ox < hi; ox++) { acc += load<f32>(s) * load<f32>(t); s += step; t += 4; }
            }
          }
        }
        const p = gw + (<usize>((o * kh + i) * kw + j0) << 2);
        const r = hsum(accv) + acc;
        store<f32>(p, accumulate ? load<f32>(p) + r : r);
      }
    }
  }
}
