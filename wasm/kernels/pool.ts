// NCHW pooling over `planes` = N·C planes of H×W, windows kh×kw, stride sh×sw, padding ph×pw before (the padding
// after shows only in OH, OW), clipped to the image. Max pooling picks the first maximum of a window (row-major), its
// gradient goes there; average pooling divides by the number of real (unpadded) pixels. Scalar loops (windows are
// tiny) except max pooling 2×2 stride 2 (whole windows only), SIMD both ways.

// @ts-ignore: decorator
@inline function imax(a: i32, b: i32): i32 { return a > b ? a : b; }
// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 { return a < b ? a : b; }

/** Flat index (within the plane) of the first maximum of window (oy, ox), or −1 when it is empty. */
// @ts-ignore: decorator
@inline function argmaxAt(xp: usize, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  oy: i32, ox: i32): i32 {
  const ys = oy * sh - ph, xs = ox * sw - pw;
  const y0 = imax(0, ys), y1 = imin(H, ys + kh), x0 = imax(0, xs), x1 = imin(W, xs + kw);
  let best = -1;
  let m: f32 = -Infinity;
  for (let iy = y0; iy < y1; iy++) {
    for (let ix = x0; ix < x1; ix++) {
      const v = load<f32>(xp + (<usize>(iy * W + ix) << 2));
      if (v > m || best < 0) { m = v; best = iy * W + ix; }
    }
  }
  return best;
}

/**
 * The common 2×2, stride 2, unpadded case, four outputs at a time: the vertical max of two input rows, then
 * the max of even and odd columns. pmax(a, b) = a < b ? b : a keeps the first of equal values, and a NaN
 * never wins, as in the scalar path.
 */
function maxPool2x2(x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, y: usize): void {
  const plane = <usize>(H * W) << 2, row = <usize>W << 2;
  let out = y;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * plane;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = xp + <usize>(2 * oy) * row, r1 = r0 + row;
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const c = <usize>ox << 3;
        const m0 = f32x4.pmax(v128.load(r0 + c), v128.load(r1 + c));
        const m1 = f32x4.pmax(v128.load(r0 + c + 16), v128.load(r1 + c + 16));
        const even = v128.shuffle<f32>(m0, m1, 0, 2, 4, 6), odd = v128.shuffle<f32>(m0, m1, 1, 3, 5, 7);
        v128.store(out, f32x4.pmax(even, odd));
        out += 16;
      }
      for (; ox < OW; ox++) {
        const c = <usize>ox << 3;
        let m = load<f32>(r0 + c);
        const v1 = load<f32>(r0 + c + 4), v2 = load<f32>(r1 + c), v3 = load<f32>(r1 + c + 4);
        if (v1 > m) m = v1;
        if (v2 > m) m = v2;
        if (v3 > m) m = v3;
        store<f32>(out, m);
        out += 4;
      }
    }
  }
}

export function maxPool(x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  OH: i32, OW: i32, y: usize): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && 2 * OH <= H && 2 * OW <= W) {
    maxPool2x2(x, planes, H, W, OH, OW, y);
    return;
  }
  const plane = <usize>(H * W) << 2;
  let out = y;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * plane;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const at = argmaxAt(xp, H, W, kh, kw, sh, sw, ph, pw, oy, ox);
        store<f32>(out, at < 0 ? -Infinity : load<f32>(xp + (<usize>at << 2)));
        out += 4;
      }
    }
  }
}

/**
 * The gradient of the 2×2, stride 2, unpadded case, four windows at a time. Windows do not overlap, so each
 * input pixel is written once: the window's gradient where its first maximum is (the scalar path's strict
 * `v > m` scan over a, b, c, d in row-major order, so ties and NaNs pick the same pixel), 0 elsewhere.
 */
function maxPoolGrad2x2(dy: usize, x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, dx: usize): void {
  const plane = <usize>(H * W) << 2, row = <usize>W << 2;
  // an odd last row or column is in no window
  if ((H & 1) != 0 || (W & 1) != 0) memory.fill(dx, 0, <usize>planes * plane);
  let g = dy;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * plane, dp = dx + <usize>p * plane;
    for (let oy = 0; oy < OH; oy++) {
      const off = <usize>(2 * oy) * row;
      const r0 = xp + off, r1 = r0 + row, d0 = dp + off, d1 = d0 + row;
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const c = <usize>ox << 3;
        const t0 = v128.load(r0 + c), t1 = v128.load(r0 + c + 16), u0 = v128.load(r1 + c), u1 = v128.load(r1 + c + 16);
        const a = v128.shuffle<f32>(t0, t1, 0, 2, 4, 6), b = v128.shuffle<f32>(t0, t1, 1, 3, 5, 7);
        const cc = v128.shuffle<f32>(u0, u1, 0, 2, 4, 6), d = v128.shuffle<f32>(u0, u1, 1, 3, 5, 7);
        const mb = f32x4.gt(b, a);
        let m = v128.bitselect(b, a, mb);
        const mc = f32x4.gt(cc, m);
        m = v128.bitselect(cc, m, mc);
        const md = f32x4.gt(d, m);
        const gv = v128.load(g);
        const gd = v128.and(gv, md);
        const gc = v128.and(gv, v128.andnot(mc, md));
        const gb = v128.and(gv, v128.andnot(v128.andnot(mb, mc), md));
        const ga = v128.andnot(gv, v128.or(mb, v128.or(mc, md)));
        v128.store(d0 + c, v128.shuffle<f32>(ga, gb, 0, 4, 1, 5));
        v128.store(d0 + c + 16, v128.shuffle<f32>(ga, gb, 2, 6, 3, 7));
        v128.store(d1 + c, v128.shuffle<f32>(gc, gd, 0, 4, 1, 5));
        v128.store(d1 + c + 16, v128.shuffle<f32>(gc, gd, 2, 6, 3, 7));
        g += 16;
      }
      for (; ox < OW; ox++) {
        const c = <usize>ox << 3;
        let m = load<f32>(r0 + c), at = 0;
        const v1 = load<f32>(r0 + c + 4), v2 = load<f32>(r1 + c), v3 = load<f32>(r1 + c + 4);
        if (v1 > m) { m = v1; at = 1; }
        if (v2 > m) { m = v2; at = 2; }
        if (v3 > m) { at = 3; }
        const gv = load<f32>(g);
        store<f32>(d0 + c, at == 0 ? gv : 0);
        store<f32>(d0 + c + 4, at == 1 ? gv : 0);
        store<f32>(d1 + c, at == 2 ? gv : 0);
        store<f32>(d1 + c + 4, at == 3 ? gv : 0);
        g += 4;
      }
    }
  }
}

export function maxPoolGrad(dy: usize, x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, dx: usize): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && 2 * OH <= H && 2 * OW <= W) {
    maxPoolGrad2x2(dy, x, planes, H, W, OH, OW, dx);
    return;
  }
  const plane = <usize>(H * W) << 2;
  memory.fill(dx, 0, <usize>planes * plane);
  let g = dy;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * plane, dp = dx + <usize>p * plane;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const at = argmaxAt(xp, H, W, kh, kw, sh, sw, ph, pw, oy, ox);
        if (at >= 0) {
          const d = dp + (<usize>at << 2);
          store<f32>(d, load<f32>(d) + load<f32>(g));
        }
        g += 4;
      }
    }
  }
}

/**
 * Average pooling; the divisor counts the window's pixels in rows [cy0, cy1) and columns [cx0, cx1): the image
 * ([0, H) × [0, W)) or the padded input (count_include_pad).
 */
export function avgPool(x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  OH: i32, OW: i32, y: usize, cy0: i32, cy1: i32, cx0: i32, cx1: i32): void {
  const plane = <usize>(H * W) << 2;
  let out = y;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * plane;
    for (let oy = 0; oy < OH; oy++) {
      const ys = oy * sh - ph, y0 = imax(0, ys), y1 = imin(H, ys + kh);
      const ny = imin(ys + kh, cy1) - imax(ys, cy0);
      for (let ox = 0; ox < OW; ox++) {
        const xs = ox * sw - pw, x0 = imax(0, xs), x1 = imin(W, xs + kw);
        let s: f32 = 0;
        for (let iy = y0; iy < y1; iy++)
          for (let ix = x0; ix < x1; ix++) s += load<f32>(xp + (<usize>(iy * W + ix) << 2));
        store<f32>(out, s / <f32>imax(1, ny * (imin(xs + kw, cx1) - imax(xs, cx0))));
        out += 4;
      }
    }
  }
}

/** The gradient of avgPool (the same divisor). */
export function avgPoolGrad(dy: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, dx: usize, cy0: i32, cy1: i32, cx0: i32, cx1: i32): void {
  const plane = <usize>(H * W) << 2;
  memory.fill(dx, 0, <usize>planes * plane);
  let g = dy;
  for (let p = 0; p < planes; p++) {
    const dp = dx + <usize>p * plane;
    for (let oy = 0; oy < OH; oy++) {
      const ys = oy * sh - ph, y0 = imax(0, ys), y1 = imin(H, ys + kh);
      const ny = imin(ys + kh, cy1) - imax(ys, cy0);
      for (let ox = 0; ox < OW; ox++) {
        const xs = ox * sw - pw, x0 = imax(0, xs), x1 = imin(W, xs + kw);
        const share = load<f32>(g) / <f32>imax(1, ny * (imin(xs + kw, cx1) - imax(xs, cx0)));
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const d = dp + (<usize>(iy * W + ix) << 2);
            store<f32>(d, load<f32>(d) + share);
          }
        }
        g += 4;
      }
    }
  }
}
