// im2col / col2im for one image (or one group of its channels), taps dilated by dh×dw.
//   x:   [C, H, W]
//   col: [C·kh·kw, outH·outW] with row stride ldcol ≥ outH·outW (elements), so that several images'
//        columns can sit side by side in one matrix [C·kh·kw, images·outH·outW] for a single GEMM;
//        row (c·kh + i)·kw + j, column oy·outW + ox,
//        col = x[c, oy·sh − ph + i·dh, ox·sw − pw + j·dw] (0 where that is padding).
// For each (c, i, j, oy) the valid ox form one interval [lo, hi); with
// sw = 1 it is a contiguous run of x, copied / accumulated with SIMD.

// @ts-ignore: decorator
@inline function max(a: i32, b: i32): i32 { return a > b ? a : b; }
// @ts-ignore: decorator
@inline function min(a: i32, b: i32): i32 { return a < b ? a : b; }

/** First ox with ox·sw − pw + j ≥ 0 (j: the tap's column offset, j·dw when dilated). */
// @ts-ignore: decorator
@inline export function oxLow(j: i32, sw: i32, pw: i32): i32 {
  const d = pw - j;
  return d <= 0 ? 0 : (d + sw - 1) / sw;
}
/** One past the last ox with ox·sw − pw + j ≤ W − 1, clamped to [0, outW]. */
// @ts-ignore: decorator
@inline export function oxHigh(j: i32, sw: i32, pw: i32, W: i32, outW: i32): i32 {
  const d = W - 1 + pw - j;
  return d < 0 ? 0 : min(outW, d / sw + 1);
}

export function im2col(x: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, dh: i32, dw: i32, outH: i32, outW: i32, col: usize, ldcol: i32): void {
  const plane = <usize>(H * W) << 2;
  let row = col;
  for (let c = 0; c < C; c++) {
    const xc = x + <usize>c * plane;
    for (let i = 0; i < kh; i++) {
      for (let j0 = 0; j0 < kw; j0++) {
        const j = j0 * dw;
        const lo = min(oxLow(j, sw, pw), outW);
        const hi = max(oxHigh(j, sw, pw, W, outW), lo);
        let dst = row;
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * sh - ph + i * dh;
          if (iy < 0 || iy >= H) {
            memory.fill(dst, 0, <usize>outW << 2);
          } else {
            if (lo > 0) memory.fill(dst, 0, <usize>lo << 2);
            const src = xc + (<usize>(iy * W + lo * sw - pw + j) << 2);
            if (sw == 1) {
              memory.copy(dst + (<usize>lo << 2), src, <usize>(hi - lo) << 2);
            } else {
              const step = <usize>sw << 2;
              let s = src, d = dst + (<usize>lo << 2);
              for (let ox = lo; ox < hi; ox++) { store<f32>(d, load<f32>(s)); s += step; d += 4; }
            }
            if (hi < outW) memory.fill(dst + (<usize>hi << 2), 0, <usize>(outW - hi) << 2);
          }
          dst += <usize>outW << 2;
        }
        row += <usize>ldcol << 2;
      }
    }
  }
}

/** Adjoint of im2col: x is zeroed, then every col entry is added to its pixel. */
export function col2im(col: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, dh: i32, dw: i32, outH: i32, outW: i32, x: usize, ldcol: i32): void {
  const plane = <usize>(H * W) << 2;
  memory.fill(x, 0, <usize>C * plane);
  let row = col;
  for (let c = 0; c < C; c++) {
    const xc = x + <usize>c * plane;
    for (let i = 0; i < kh; i++) {
      for (let j0 = 0; j0 < kw; j0++) {
        const j = j0 * dw;
        const lo = min(oxLow(j, sw, pw), outW);
        const hi = max(oxHigh(j, sw, pw, W, outW), lo);
        let src = row;
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * sh - ph + i * dh;
          if (iy >= 0 && iy < H) {
            let d = xc + (<usize>(iy * W + lo * sw - pw + j) << 2);
            let s = src + (<usize>lo << 2);
            let ox = lo;
            if (sw == 1) {
              for (; ox + 4 <= hi; ox += 4) {
                v128.store(d, f32x4.add(v128.load(d), v128.load(s)));
                d += 16; s += 16;
              }
              for (; ox < hi; ox++) { store<f32>(d, load<f32>(d) + load<f32>(s)); d += 4; s += 4; }
            } else {
              const step = <usize>sw << 2;
              for (; ox < hi; ox++) { store<f32>(d, load<f32>(d) + load<f32>(s)); d += step; s += 4; }
            }
          }
          src += <usize>outW << 2;
        }
        row += <usize>ldcol << 2;
      }
    }
  }
}
