// Element-wise kernels: unary maps, their derivatives, binary arithmetic.
// Each loop handles 4 lanes at a time and the n % 4 tail one lane at a time
// with the *same* vector formula (load32_zero / store32_lane), so a value's
// result never depends on its position. Outputs may alias an input of the
// same index (in place); partial overlaps are not supported.
// Accuracy of the transcendental maps: see vmath.ts.

import { vexp, vlog, vsigmoid, vtanh, vPhi, vphi } from "./vmath";
import { BinaryCode } from "./codes";

// @ts-ignore: decorator
@inline function ld(p: usize): v128 { return v128.load(p); }
// @ts-ignore: decorator
@inline function ld1(p: usize): v128 { return v128.load32_zero(p); }
// @ts-ignore: decorator
@inline function st1(p: usize, v: v128): void { v128.store32_lane(p, v, 0); }

// ------------------------------------------------------------ unary maps
// Written out per function (no function pointers: AS would emit call_indirect).

// @ts-ignore: decorator
@inline function reluV(v: v128): v128 {
  // pmax(v, 0) = v < 0 ? 0 : v — keeps NaN (like PyTorch), one maxps.
  return f32x4.pmax(v, f32x4.splat(0));
}
// @ts-ignore: decorator
@inline function geluV(v: v128): v128 { return f32x4.mul(v, vPhi(v)); }

export function relu(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, reluV(ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, reluV(ld1(x + o))); }
}
export function sigmoid(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, vsigmoid(ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, vsigmoid(ld1(x + o))); }
}
export function tanh(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, vtanh(ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, vtanh(ld1(x + o))); }
}
/** Exact GELU 0.5·x·(1 + erf(x/√2)) = x·Φ(x). */
export function gelu(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, geluV(ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, geluV(ld1(x + o))); }
}
export function exp(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, vexp(ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, vexp(ld1(x + o))); }
}
export function log(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, vlog(ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, vlog(ld1(x + o))); }
}
/** f32x4.sqrt is IEEE correctly rounded, like Math.fround(Math.sqrt(x)). */
export function sqrt(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, f32x4.sqrt(ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, f32x4.sqrt(ld1(x + o))); }
}
export function neg(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, f32x4.neg(ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, f32x4.neg(ld1(x + o))); }
}

// ------------------------------------------------------------ derivatives

/** dx = x > 0 ? dy : 0 (mask-and, so NaN in x gives 0). */
export function reluGrad(dy: usize, x: usize, dx: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(ld(dy + o), f32x4.gt(ld(x + o), z)));
  }
  for (; i < n; i++) { const o = <usize>i << 2; st1(dx + o, v128.and(ld1(dy + o), f32x4.gt(ld1(x + o), z))); }
}
// @ts-ignore: decorator
@inline function sigmoidGradV(dy: v128, y: v128): v128 {
  return f32x4.mul(f32x4.mul(dy, y), f32x4.sub(f32x4.splat(1), y));
}
/** dx = dy·y·(1−y), y = sigmoid output. */
export function sigmoidGrad(dy: usize, y: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(dx + o, sigmoidGradV(ld(dy + o), ld(y + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(dx + o, sigmoidGradV(ld1(dy + o), ld1(y + o))); }
}
// @ts-ignore: decorator
@inline function tanhGradV(dy: v128, y: v128): v128 {
  return f32x4.mul(dy, f32x4.sub(f32x4.splat(1), f32x4.mul(y, y)));
}
/** dx = dy·(1−y²), y = tanh output. */
export function tanhGrad(dy: usize, y: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(dx + o, tanhGradV(ld(dy + o), ld(y + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(dx + o, tanhGradV(ld1(dy + o), ld1(y + o))); }
}
// @ts-ignore: decorator
@inline function geluGradV(dy: v128, x: v128): v128 {
  return f32x4.mul(dy, f32x4.add(vPhi(x), f32x4.mul(x, vphi(x))));
}
/** dx = dy·(Φ(x) + x·φ(x)). */
export function geluGrad(dy: usize, x: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(dx + o, geluGradV(ld(dy + o), ld(x + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(dx + o, geluGradV(ld1(dy + o), ld1(x + o))); }
}

// ------------------------------------------------------------ binary ops
// op: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min. The exported functions switch on op once
// and call an @inline loop with a constant op, so each case compiles to its
// own branch-free loop.

// @ts-ignore: decorator
@inline function vop(op: i32, a: v128, b: v128): v128 {
  if (op == BinaryCode.add) return f32x4.add(a, b);
  if (op == BinaryCode.sub) return f32x4.sub(a, b);
  if (op == BinaryCode.mul) return f32x4.mul(a, b);
  if (op == BinaryCode.max) return f32x4.max(a, b);
  if (op == BinaryCode.min) return f32x4.min(a, b);
  return f32x4.div(a, b);
}

// @ts-ignore: decorator
@inline function loopVV(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, vop(op, ld(a + o), ld(b + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, vop(op, ld1(a + o), ld1(b + o))); }
}
// @ts-ignore: decorator
@inline function loopVS(op: i32, a: usize, s: v128, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, vop(op, ld(a + o), s)); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, vop(op, ld1(a + o), s)); }
}
// @ts-ignore: decorator
@inline function loopSV(op: i32, s: v128, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, vop(op, s, ld(b + o))); }
  for (; i < n; i++) { const o = <usize>i << 2; st1(y + o, vop(op, s, ld1(b + o))); }
}

/** y[i] = a[i] op b[i]. */
export function binary(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  if (op == BinaryCode.add) loopVV(BinaryCode.add, a, b, y, n);
  else if (op == BinaryCode.sub) loopVV(BinaryCode.sub, a, b, y, n);
  else if (op == BinaryCode.mul) loopVV(BinaryCode.mul, a, b, y, n);
  else if (op == BinaryCode.max) loopVV(BinaryCode.max, a, b, y, n);
  else if (op == BinaryCode.min) loopVV(BinaryCode.min, a, b, y, n);
  else loopVV(BinaryCode.div, a, b, y, n);
}
/** y[i] = a[i] op s. */
export function binaryScalar(op: i32, a: usize, s: f32, y: usize, n: i32): void {
  const v = f32x4.splat(s);
  if (op == BinaryCode.add) loopVS(BinaryCode.add, a, v, y, n);
  else if (op == BinaryCode.sub) loopVS(BinaryCode.sub, a, v, y, n);
  else if (op == BinaryCode.mul) loopVS(BinaryCode.mul, a, v, y, n);
  else if (op == BinaryCode.max) loopVS(BinaryCode.max, a, v, y, n);
  else if (op == BinaryCode.min) loopVS(BinaryCode.min, a, v, y, n);
  else loopVS(BinaryCode.div, a, v, y, n);
}
/** y[i] = s op b[i]. */
export function scalarBinary(op: i32, s: f32, b: usize, y: usize, n: i32): void {
  const v = f32x4.splat(s);
  if (op == BinaryCode.add) loopSV(BinaryCode.add, v, b, y, n);
  else if (op == BinaryCode.sub) loopSV(BinaryCode.sub, v, b, y, n);
  else if (op == BinaryCode.mul) loopSV(BinaryCode.mul, v, b, y, n);
  else if (op == BinaryCode.max) loopSV(BinaryCode.max, v, b, y, n);
  else if (op == BinaryCode.min) loopSV(BinaryCode.min, v, b, y, n);
  else loopSV(BinaryCode.div, v, b, y, n);
}
/** y[r,c] = a[r,c] op b[c] (bias over the last axis). */
export function binaryRow(op: i32, a: usize, b: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    if (op == BinaryCode.add) loopVV(BinaryCode.add, a, b, y, cols);
    else if (op == BinaryCode.sub) loopVV(BinaryCode.sub, a, b, y, cols);
    else if (op == BinaryCode.mul) loopVV(BinaryCode.mul, a, b, y, cols);
    else if (op == BinaryCode.max) loopVV(BinaryCode.max, a, b, y, cols);
    else if (op == BinaryCode.min) loopVV(BinaryCode.min, a, b, y, cols);
    else loopVV(BinaryCode.div, a, b, y, cols);
    a += stride; y += stride;
  }
}
/** y[o,m,i] = a[o,m,i] op b[m] (per-channel over NCHW-like layouts). */
export function binaryMid(op: i32, a: usize, b: usize, y: usize, outer: i32, mid: i32, inner: i32): void {
  if (inner == 1) { binaryRow(op, a, b, y, outer, mid); return; }
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let m = 0; m < mid; m++) {
      const s = v128.load32_splat(b + (<usize>m << 2));
      if (op == BinaryCode.add) loopVS(BinaryCode.add, a, s, y, inner);
      else if (op == BinaryCode.sub) loopVS(BinaryCode.sub, a, s, y, inner);
      else if (op == BinaryCode.mul) loopVS(BinaryCode.mul, a, s, y, inner);
      else if (op == BinaryCode.max) loopVS(BinaryCode.max, a, s, y, inner);
      else if (op == BinaryCode.min) loopVS(BinaryCode.min, a, s, y, inner);
      else loopVS(BinaryCode.div, a, s, y, inner);
      a += stride; y += stride;
    }
  }
}
