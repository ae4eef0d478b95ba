// NCHW pooling over `planes` = N·C planes of H×W, windows kh×kw, stride sh×sw, padding ph×pw, clipped to
// the image. Max pooling picks the first maximum of a window (row-major), its gradient goes there;
// average pooling divides by the number of real (unpadded) pixels. Scalar loops: windows are tiny
// (2×2, 3×3), and a compiled loop is what the JS reference lacked (~15 ns per input there).

// @ts-ignore: decorator
@inline function imax(a: i32, b: i32): i32 { return a > b ? a : b; }
// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 { return a < b ? a : b; }

/** Flat index (within the plane) of the first maximum of window (oy, ox), or −1 when it is empty. */
// @ts-ignore: decorator
@inline function argmaxAt(xp: usize, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, oy: i32, ox: i32): i32 {
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
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0) { maxPool2x2(x, planes, H, W, OH, OW, y); return; }
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

export function maxPoolGrad(dy: usize, x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, dx: usize): void {
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

export function avgPool(x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  OH: i32, OW: i32, y: usize): void {
  const plane = <usize>(H * W) << 2;
  let out = y;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * plane;
    for (let oy = 0; oy < OH; oy++) {
      const ys = oy * sh - ph, y0 = imax(0, ys), y1 = imin(H, ys + kh);
      for (let ox = 0; ox < OW; ox++) {
        const xs = ox * sw - pw, x0 = imax(0, xs), x1 = imin(W, xs + kw);
        let s: f32 = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += load<f32>(xp + (<usize>(iy * W + ix) << 2));
        store<f32>(out, s / <f32>imax(1, (y1 - y0) * (x1 - x0)));
        out += 4;
      }
    }
  }
}

export function avgPoolGrad(dy: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  OH: i32, OW: i32, dx: usize): void {
  const plane = <usize>(H * W) << 2;
  memory.fill(dx, 0, <usize>planes * plane);
  let g = dy;
  for (let p = 0; p < planes; p++) {
    const dp = dx + <usize>p * plane;
    for (let oy = 0; oy < OH; oy++) {
      const ys = oy * sh - ph, y0 = imax(0, ys), y1 = imin(H, ys + kh);
      for (let ox = 0; ox < OW; ox++) {
        const xs = ox * sw - pw, x0 = imax(0, xs), x1 = imin(W, xs + kw);
        const share = load<f32>(g) / <f32>imax(1, (y1 - y0) * (x1 - x0));
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
