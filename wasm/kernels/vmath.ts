// Vectorised f32 transcendental functions (4 lanes), Cephes-style: range
// reduction + short polynomial. Accuracy measured against Math.* in float64
// over 2·10^6-point sweeps, both builds:
//   vexp      max relative error 1.2e-7 (subnormal results are approximate)
//   vlog      max relative error 7.9e-8
//   vtanh     max relative error 1.4e-7;  vsigmoid max relative error 2.1e-7
//   vPhi (normal CDF, for gelu): the implied erf error is at most 4.8e-7
//     absolute; gelu's relative error is 2.4e-6 for |x| <= 5 and grows to
//     1.8e-5 near x = -12, where |gelu| < 1e-31.
// Polynomials use madd (FMA in the relaxed build), so the two builds may
// differ by an ulp.

import { madd } from "./simd";

// @ts-ignore: decorator
@inline function splat(x: f32): v128 { return f32x4.splat(x); }

/** e^x. Overflows to +inf above ~88.72, gradual underflow to 0 below ~-87.3,
 *  NaN propagates. 2^n is applied as two factors so that n = 128 and
 *  subnormal results need no special casing. */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  // pmin/pmax return their first operand when it is NaN: NaN survives.
  x = f32x4.pmax(f32x4.pmin(x, splat(89.0)), splat(-104.0));
  const n = f32x4.nearest(f32x4.mul(x, splat(1.44269504088896341)));
  // Cody–Waite: ln2 = 0.693359375 - 2.12194440e-4, the first part exact in few bits.
  let r = f32x4.sub(x, f32x4.mul(n, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, splat(-2.12194440e-4)));
  let p = madd(splat(1.9875691500e-4), r, splat(1.3981999507e-3));
  p = madd(p, r, splat(8.3334519073e-3));
  p = madd(p, r, splat(4.1665795894e-2));
  p = madd(p, r, splat(1.6666665459e-1));
  p = madd(p, r, splat(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, splat(1.0)));
  // n is a whole number in [-151, 128]: adding 1.5·2^23 puts it in the low mantissa bits, so the integer is the
  // difference of two bit patterns — exact, and two instructions where trunc_sat is a long sequence on x64
  const ni = i32x4.sub(f32x4.add(n, splat(12582912.0)), splat(12582912.0));
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** Natural log. log(0) = -inf, log(x<0) = NaN, log(inf) = inf, subnormals handled. */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  // Subnormal inputs: scale by 2^23 so the exponent field is meaningful.
  const sub = f32x4.lt(x, splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, splat(8388608.0)), x, sub);
  const bits = xs;
  // x = m·2^e with m in [0.5, 1).
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(sub, i32x4.splat(23)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  // Re-centre m in [√½, √2): if m < √½ use 2m and e-1.
  const lo = f32x4.lt(m, splat(0.707106781186547524));
  m = v128.bitselect(f32x4.add(m, m), m, lo);
  e = i32x4.add(e, lo); // lo lanes are -1
  const f = f32x4.sub(m, splat(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(f, f);
  let y = madd(splat(7.0376836292e-2), f, splat(-1.1514610310e-1));
  y = madd(y, f, splat(1.1676998740e-1));
  y = madd(y, f, splat(-1.2420140846e-1));
  y = madd(y, f, splat(1.4249322787e-1));
  y = madd(y, f, splat(-1.6668057665e-1));
  y = madd(y, f, splat(2.0000714765e-1));
  y = madd(y, f, splat(-2.4999993993e-1));
  y = madd(y, f, splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, f), z);
  y = madd(ef, splat(-2.12194440e-4), y);
  y = madd(z, splat(-0.5), y);
  let r = f32x4.add(f32x4.add(f, y), f32x4.mul(ef, splat(0.693359375)));
  r = v128.bitselect(splat(-Infinity), r, f32x4.eq(x, splat(0)));
  r = v128.bitselect(splat(NaN), r, f32x4.lt(x, splat(0)));
  // NaN and +inf map to themselves.
  return v128.bitselect(x, r, v128.or(f32x4.ne(x, x), f32x4.eq(x, splat(Infinity))));
}

/** 1 / (1 + e^-x), evaluated through e = e^-|x| (never overflows): s = 1/(1+e)
 *  for x ≥ 0 and e·s for x < 0, so tiny (even subnormal) results keep their
 *  relative accuracy. */
// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const s = f32x4.div(splat(1.0), f32x4.add(splat(1.0), e));
  return v128.bitselect(f32x4.mul(e, s), s, f32x4.lt(x, splat(0)));
}

/** tanh: odd polynomial for |x| < 0.625 (no cancellation near 0), else
 *  1 - 2/(e^{2|x|}+1) with the sign of x. */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = madd(splat(-5.70498872745e-3), z, splat(2.06390887954e-2));
  p = madd(p, z, splat(-5.37397155531e-2));
  p = madd(p, z, splat(1.33314422036e-1));
  p = madd(p, z, splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  const e = vexp(f32x4.add(ax, ax));
  let big = f32x4.sub(splat(1.0), f32x4.div(splat(2.0), f32x4.add(e, splat(1.0))));
  big = v128.bitselect(x, big, i32x4.splat(0x80000000)); // copysign
  return v128.bitselect(small, big, f32x4.lt(ax, splat(0.625)));
}

/** Standard normal CDF Φ(x) = ½·erfc(-x/√2), via the Numerical Recipes erfc
 *  (fractional error < 1.2e-7), evaluated on |x| so the left tail keeps its
 *  relative accuracy instead of cancelling in 1 + erf. */
// @ts-ignore: decorator
@inline export function vPhi(x: v128): v128 {
  const z = f32x4.mul(f32x4.abs(x), splat(0.7071067811865476));
  const t = f32x4.div(splat(1.0), madd(splat(0.5), z, splat(1.0)));
  let p = madd(splat(0.17087277), t, splat(-0.82215223));
  p = madd(p, t, splat(1.48851587));
  p = madd(p, t, splat(-1.13520398));
  p = madd(p, t, splat(0.27886807));
  p = madd(p, t, splat(-0.18628806));
  p = madd(p, t, splat(0.09678418));
  p = madd(p, t, splat(0.37409196));
  p = madd(p, t, splat(1.00002368));
  p = madd(p, t, splat(-1.26551223));
  // half = ½·erfc(|x|/√2) = Φ(-|x|)
  const half = f32x4.mul(f32x4.mul(t, splat(0.5)), vexp(f32x4.sub(p, f32x4.mul(z, z))));
  return v128.bitselect(f32x4.sub(splat(1.0), half), half, f32x4.gt(x, splat(0)));
}

/** Standard normal density φ(x) = e^{-x²/2}/√(2π). */
// @ts-ignore: decorator
@inline export function vphi(x: v128): v128 {
  return f32x4.mul(vexp(f32x4.mul(f32x4.mul(x, x), splat(-0.5))), splat(0.3989422804014327));
}
