// Row/column reductions over a row-major [rows, cols] matrix, summed in f32.
// Row reductions keep 4 independent vector accumulators (16 floats in flight)
// for instruction-level parallelism; that also makes the summation partly
// pairwise, so the error grows more slowly than a single running sum.

import { hsum, hmax } from "./simd";

/** Σ of n floats at p. */
// @ts-ignore: decorator
@inline export function sumRow(p: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = p + (<usize>i << 2);
    s0 = f32x4.add(s0, v128.load(q, 0));
    s1 = f32x4.add(s1, v128.load(q, 16));
    s2 = f32x4.add(s2, v128.load(q, 32));
    s3 = f32x4.add(s3, v128.load(q, 48));
  }
  for (; i + 4 <= n; i += 4) s0 = f32x4.add(s0, v128.load(p + (<usize>i << 2)));
  for (; i < n; i++) s1 = f32x4.add(s1, v128.load32_zero(p + (<usize>i << 2)));
  return hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
}

/** max of n floats at p (-inf when n = 0; NaN if any is NaN). */
// @ts-ignore: decorator
@inline export function maxRow(p: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity), m1 = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + (<usize>i << 2);
    m0 = f32x4.max(m0, v128.load(q, 0));
    m1 = f32x4.max(m1, v128.load(q, 16));
  }
  for (; i + 4 <= n; i += 4) m0 = f32x4.max(m0, v128.load(p + (<usize>i << 2)));
  // Tail: a broadcast value cannot change the max of the other lanes.
  for (; i < n; i++) m1 = f32x4.max(m1, v128.load32_splat(p + (<usize>i << 2)));
  return hmax(f32x4.max(m0, m1));
}

/** y[r] = Σ_c x[r,c]. */
export function sumRows(x: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    store<f32>(y + (<usize>r << 2), sumRow(x, cols));
    x += stride;
  }
}

/** y[r] = max_c x[r,c]. */
export function maxRows(x: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    store<f32>(y + (<usize>r << 2), maxRow(x, cols));
    x += stride;
  }
}

/** y[c] = Σ_r x[r,c]. y is used as the accumulator (must not overlap x);
 *  rows are taken 4 at a time so each y vector is loaded/stored once per 4 rows. */
export function sumCols(x: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  memory.fill(y, 0, stride);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const x0 = x, x1 = x + stride, x2 = x + 2 * stride, x3 = x + 3 * stride;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const s = f32x4.add(f32x4.add(v128.load(x0 + o), v128.load(x1 + o)),
        f32x4.add(v128.load(x2 + o), v128.load(x3 + o)));
      v128.store(y + o, f32x4.add(v128.load(y + o), s));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const s = (load<f32>(x0 + o) + load<f32>(x1 + o)) + (load<f32>(x2 + o) + load<f32>(x3 + o));
      store<f32>(y + o, load<f32>(y + o) + s);
    }
    x += 4 * stride;
  }
  for (; r < rows; r++) {
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      v128.store(y + o, f32x4.add(v128.load(y + o), v128.load(x + o)));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(y + o, load<f32>(y + o) + load<f32>(x + o));
    }
    x += stride;
  }
}
