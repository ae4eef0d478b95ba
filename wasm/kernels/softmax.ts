// Row-wise softmax and log-softmax, numerically stable: the row max is
// subtracted before exponentiating, so no exp overflows and the largest term
// is exactly 1.

import { maxRow } from "./reduce";
import { vexp, vlog } from "./vmath";
import { hsum } from "./simd";

/** Writes e^(x - m) to y and returns its sum. */
// @ts-ignore: decorator
@inline function expShiftSum(x: usize, y: usize, n: i32, m: f32, write: bool): f32 {
  const mv = f32x4.splat(m);
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const e0 = vexp(f32x4.sub(v128.load(x + o, 0), mv));
    const e1 = vexp(f32x4.sub(v128.load(x + o, 16), mv));
    if (write) { v128.store(y + o, e0, 0); v128.store(y + o, e1, 16); }
    s0 = f32x4.add(s0, e0); s1 = f32x4.add(s1, e1);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const e = vexp(f32x4.sub(v128.load(x + o), mv));
    if (write) v128.store(y + o, e);
    s0 = f32x4.add(s0, e);
  }
  let s = hsum(f32x4.add(s0, s1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    // Only lane 0 is real here.
    const e = f32x4.extract_lane(vexp(f32x4.sub(v128.load32_zero(x + o), mv)), 0);
    if (write) store<f32>(y + o, e);
    s += e;
  }
  return s;
}

/** y[r,:] = softmax(x[r,:]). y may equal x. */
export function softmaxRows(x: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const m = maxRow(x, cols);
    const s = expShiftSum(x, y, cols, m, true);
    const inv = f32x4.splat(<f32>1.0 / s);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(v128.load(y + o), inv));
    }
    for (; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, load<f32>(y + o) * f32x4.extract_lane(inv, 0));
    }
    x += stride; y += stride;
  }
}

/** y[r,:] = x[r,:] - m - log Σ e^(x - m). y may equal x. */
export function logSoftmaxRows(x: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const m = maxRow(x, cols);
    const s = expShiftSum(x, y, cols, m, false);
    const ls = f32x4.extract_lane(vlog(f32x4.splat(s)), 0);
    const mv = f32x4.splat(m), lv = f32x4.splat(ls);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.sub(f32x4.sub(v128.load(x + o), mv), lv));
    }
    for (; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, (load<f32>(x + o) - m) - ls);
    }
    x += stride; y += stride;
  }
}
