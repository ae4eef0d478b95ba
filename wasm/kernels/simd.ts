// Shared SIMD helpers. Everything here is @inline so that the feature switch below
// is resolved at compile time and no call overhead remains in the hot loops.

/** a*b + c on four f32 lanes. The relaxed build emits a fused multiply-add
 *  (one instruction, one rounding); the plain build must use mul+add because
 *  baseline wasm SIMD has no FMA. ASC_FEATURE_RELAXED_SIMD is a compile-time
 *  constant, so the untaken branch is removed. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Horizontal sum of four f32 lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, f32x4.shuffle(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, f32x4.shuffle(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

/** Horizontal max of four f32 lanes (NaN-propagating like f32x4.max). */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const s = f32x4.max(v, f32x4.shuffle(v, v, 2, 3, 0, 1));
  const t = f32x4.max(s, f32x4.shuffle(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}
