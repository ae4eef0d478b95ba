// Fused, in-place optimiser updates over a parameter and its state: one pass, 4 lanes at a time; the n % 4
// tail runs the same vector formula on one lane (load32_zero / store32_lane), so a value's result never
// depends on its position. Plain mul/add (no fused multiply-add), so both builds give the same bits.

// @ts-ignore: decorator
@inline function ld(p: usize, lane1: bool): v128 { return lane1 ? v128.load32_zero(p) : v128.load(p); }
// @ts-ignore: decorator
@inline function st(p: usize, v: v128, lane1: bool): void {
  if (lane1) v128.store32_lane(p, v, 0); else v128.store(p, v);
}

// @ts-ignore: decorator
@inline function adamAt(o: usize, p: usize, g: usize, m: usize, v: usize, lane1: bool,
  b1: v128, a1: v128, b2: v128, a2: v128, l2: v128, keep: v128, step: v128, c2: v128, eps: v128): void {
  const pv = ld(p + o, lane1);
  const gv = f32x4.add(ld(g + o, lane1), f32x4.mul(l2, pv));
  const mv = f32x4.add(f32x4.mul(b1, ld(m + o, lane1)), f32x4.mul(a1, gv));
  const vv = f32x4.add(f32x4.mul(b2, ld(v + o, lane1)), f32x4.mul(a2, f32x4.mul(gv, gv)));
  st(m + o, mv, lane1);
  st(v + o, vv, lane1);
  const denom = f32x4.add(f32x4.sqrt(f32x4.div(vv, c2)), eps);
  st(p + o, f32x4.sub(f32x4.mul(pv, keep), f32x4.div(f32x4.mul(step, mv), denom)), lane1);
}

/**
 * Adam / AdamW: g' = g + l2·p; m ← β1·m + (1−β1)·g'; v ← β2·v + (1−β2)·g'²;
 * p ← p·keep − (lr/c1)·m / (√(v/c2) + ε), with c1, c2 the bias corrections and keep = 1 − lr·λ for AdamW.
 */
export function adamStep(p: usize, g: usize, m: usize, v: usize, n: i32, beta1: f32, beta2: f32, l2: f32, keep: f32,
  stepSize: f32, c2: f32, epsilon: f32): void {
  const b1 = f32x4.splat(beta1), a1 = f32x4.splat(1 - beta1), b2 = f32x4.splat(beta2), a2 = f32x4.splat(1 - beta2);
  const vl2 = f32x4.splat(l2), vkeep = f32x4.splat(keep), vstep = f32x4.splat(stepSize), vc2 = f32x4.splat(c2),
    veps = f32x4.splat(epsilon);
  let i = 0;
  for (; i + 4 <= n; i += 4) adamAt(<usize>i << 2, p, g, m, v, false, b1, a1, b2, a2, vl2, vkeep, vstep, vc2, veps);
  for (; i < n; i++) adamAt(<usize>i << 2, p, g, m, v, true, b1, a1, b2, a2, vl2, vkeep, vstep, vc2, veps);
}

// @ts-ignore: decorator
@inline function sgdAt(o: usize, p: usize, g: usize, vel: usize, lane1: bool, lr: v128, mom: v128, wd: v128): void {
  const pv = ld(p + o, lane1);
  let d = f32x4.add(ld(g + o, lane1), f32x4.mul(wd, pv));
  if (vel) { d = f32x4.add(f32x4.mul(mom, ld(vel + o, lane1)), d); st(vel + o, d, lane1); }
  st(p + o, f32x4.sub(pv, f32x4.mul(lr, d)), lane1);
}

/** SGD with heavy-ball momentum: d = g + λp; vel ← μ·vel + d (when vel ≠ 0); p ← p − lr·(vel or d). */
export function sgdStep(p: usize, g: usize, vel: usize, n: i32, lr: f32, momentum: f32, weightDecay: f32): void {
  const vlr = f32x4.splat(lr), vm = f32x4.splat(momentum), vwd = f32x4.splat(weightDecay);
  let i = 0;
  for (; i + 4 <= n; i += 4) sgdAt(<usize>i << 2, p, g, vel, false, vlr, vm, vwd);
  for (; i < n; i++) sgdAt(<usize>i << 2, p, g, vel, true, vlr, vm, vwd);
}
