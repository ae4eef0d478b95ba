// The fused 8-bit optimiser updates (block-wise dynamic quantisation, Dettmers et al. 2022): per block of `bs`
// values, dequantise the state (map[code]·absmax), update state and parameter in f32 — the new state kept in
// `scratch` (2·bs f32, the caller's) while the block's new absmax is found — then requantise it with that absmax.
// Four lanes at a time for the arithmetic; the code lookups are per lane (SIMD has no gather). Plain mul/add only,
// every value rounded as the js reference rounds it (Math.fround per operation), so both agree bit for bit.
// A code table (see src/backend/js/kernels/optimizer8bit.ts): 256 f32 map values, 255 ascending thresholds, pad,
// then per bucket of f32 values the thresholds below it (integers, as u32 bits). Codes are bytes: element i at
// codes + i.
import { hmax } from "./simd";

const THRESHOLDS: usize = 256 << 2;
const BUCKETS: usize = 520 << 2;
const EMIN: u32 = 101;
const BUCKET_BITS: u32 = 7;

/** How many thresholds lie below x: the bucket's count, then the one threshold the bucket may hold. */
// @ts-ignore: decorator
@inline function codeOf(table: usize, x: f32): u8 {
  const b = reinterpret<u32>(x);
  // below 2^(EMIN−126) every value has the code of 0: the buckets of exponent EMIN all say so (no threshold is that
  // small), so smaller exponents are clamped to it rather than branched on
  const e = min<u32>(max<u32>((b >> 23) & 255, EMIN), 127);
  const idx = ((((b >> 31) * (128 - EMIN) + e - EMIN) << BUCKET_BITS) | ((b >> (23 - BUCKET_BITS)) & 127));
  const c0 = load<u32>(table + BUCKETS + ((<usize>idx) << 2));
  // f32.lt is already 0 or 1: added as it is (a select here made the whole update 2× slower, measured)
  return <u8>(c0 + <u32>(load<f32>(table + THRESHOLDS + ((<usize>c0) << 2)) < x));
}

// @ts-ignore: decorator
@inline function map1(table: usize, at: usize): f32 {
  return load<f32>(table + ((<usize>load<u8>(at)) << 2));
}

// @ts-ignore: decorator
@inline function dequantize4(table: usize, at: usize, amax: f32): v128 {
  let v = f32x4.splat(map1(table, at));
  v = f32x4.replace_lane(v, 1, map1(table, at + 1));
  v = f32x4.replace_lane(v, 2, map1(table, at + 2));
  v = f32x4.replace_lane(v, 3, map1(table, at + 3));
  return f32x4.mul(v, f32x4.splat(amax));
}

/** Codes of the `count` new state values at `from` with the block's absmax (0: a block of zeros, code of 0). */
// @ts-ignore: decorator
@inline function requantize(table: usize, codes: usize, from: usize, count: i32, amax: f32): void {
  let i = 0;
  if (amax > 0) {
    const va = f32x4.splat(amax);
    for (; i + 4 <= count; i += 4) {
      const q = f32x4.div(v128.load(from + (<usize>i << 2)), va);
      const at = codes + i;
      store<u8>(at, codeOf(table, f32x4.extract_lane(q, 0)));
      store<u8>(at + 1, codeOf(table, f32x4.extract_lane(q, 1)));
      store<u8>(at + 2, codeOf(table, f32x4.extract_lane(q, 2)));
      store<u8>(at + 3, codeOf(table, f32x4.extract_lane(q, 3)));
    }
    for (; i < count; i++) store<u8>(codes + i, codeOf(table, load<f32>(from + (<usize>i << 2)) / amax));
  } else {
    const zero = codeOf(table, 0);
    for (; i < count; i++) store<u8>(codes + i, zero);
  }
}

/**
 * 8-bit Adam / AdamW, the update of adamStep (optim.ts) with m on table1/codes1/absmax1 and v on
 * table2/codes2/absmax2 (one absmax per block of `bs`); `scratch` holds 2·bs f32.
 */
export function adam8bitStep(p: usize, g: usize, table1: usize, codes1: usize, absmax1: usize, table2: usize,
  codes2: usize, absmax2: usize, scratch: usize, n: i32, bs: i32, beta1: f32, beta2: f32, l2: f32, keep: f32,
  stepSize: f32, c2: f32, epsilon: f32): void {
  const b1 = f32x4.splat(beta1), a1 = f32x4.splat(1 - beta1), b2 = f32x4.splat(beta2), a2 = f32x4.splat(1 - beta2);
  const vl2 = f32x4.splat(l2), vkeep = f32x4.splat(keep), vstep = f32x4.splat(stepSize), vc2 = f32x4.splat(c2),
    veps = f32x4.splat(epsilon);
  const s1: f32 = 1 - beta1, s2: f32 = 1 - beta2;
  const sm = scratch, sv = scratch + (<usize>bs << 2);
  for (let blk = 0, from = 0; from < n; blk++, from += bs) {
    const to = min(n, from + bs);
    const old1 = load<f32>(absmax1 + (<usize>blk << 2)), old2 = load<f32>(absmax2 + (<usize>blk << 2));
    let mx1 = f32x4.splat(0), mx2 = f32x4.splat(0);
    let i = from;
    for (; i + 4 <= to; i += 4) {
      const o = <usize>i << 2, so = <usize>(i - from) << 2;
      const pv = v128.load(p + o);
      const mOld = dequantize4(table1, codes1 + i, old1), vOld = dequantize4(table2, codes2 + i, old2);
      const gv = f32x4.add(v128.load(g + o), f32x4.mul(vl2, pv));
      const mv = f32x4.add(f32x4.mul(b1, mOld), f32x4.mul(a1, gv));
      const vv = f32x4.add(f32x4.mul(b2, vOld), f32x4.mul(a2, f32x4.mul(gv, gv)));
      mx1 = f32x4.max(mx1, f32x4.abs(mv));
      mx2 = f32x4.max(mx2, vv);
      v128.store(sm + so, mv);
      v128.store(sv + so, vv);
      const denom = f32x4.add(f32x4.sqrt(f32x4.div(vv, vc2)), veps);
      v128.store(p + o, f32x4.sub(f32x4.mul(pv, vkeep), f32x4.div(f32x4.mul(vstep, mv), denom)));
    }
    let t1: f32 = 0, t2: f32 = 0;
    for (; i < to; i++) {
      const o = <usize>i << 2, so = <usize>(i - from) << 2;
      const pi = load<f32>(p + o);
      const mOld = map1(table1, codes1 + i) * old1, vOld = map1(table2, codes2 + i) * old2;
      const gi = load<f32>(g + o) + l2 * pi;
      const mi = beta1 * mOld + s1 * gi;
      const vi = beta2 * vOld + s2 * (gi * gi);
      t1 = max(t1, abs(mi));
      t2 = max(t2, vi);
      store<f32>(sm + so, mi);
      store<f32>(sv + so, vi);
      store<f32>(p + o, pi * keep - (stepSize * mi) / (sqrt(vi / c2) + epsilon));
    }
    const new1 = max(hmax(mx1), t1), new2 = max(hmax(mx2), t2);
    requantize(table1, codes1 + from, sm, to - from, new1);
    requantize(table2, codes2 + from, sv, to - from, new2);
    store<f32>(absmax1 + (<usize>blk << 2), new1);
    store<f32>(absmax2 + (<usize>blk << 2), new2);
  }
}

/**
 * 8-bit SGD with heavy-ball momentum: d = g + λp; vel ← μ·vel + d; p ← p − lr·vel, vel on table/codes/absmax;
 * `scratch` holds bs f32.
 */
export function sgd8bitStep(p: usize, g: usize, table: usize, codes: usize, absmax: usize, scratch: usize, n: i32,
  bs: i32, lr: f32, momentum: f32, weightDecay: f32): void {
  const vlr = f32x4.splat(lr), vm = f32x4.splat(momentum), vwd = f32x4.splat(weightDecay);
  for (let blk = 0, from = 0; from < n; blk++, from += bs) {
    const to = min(n, from + bs);
    const old = load<f32>(absmax + (<usize>blk << 2));
    let mx = f32x4.splat(0);
    let i = from;
    for (; i + 4 <= to; i += 4) {
      const o = <usize>i << 2;
      const pv = v128.load(p + o);
      const d = f32x4.add(v128.load(g + o), f32x4.mul(vwd, pv));
      const vel = f32x4.add(f32x4.mul(vm, dequantize4(table, codes + i, old)), d);
      mx = f32x4.max(mx, f32x4.abs(vel));
      v128.store(scratch + (<usize>(i - from) << 2), vel);
      v128.store(p + o, f32x4.sub(pv, f32x4.mul(vlr, vel)));
    }
    let t: f32 = 0;
    for (; i < to; i++) {
      const o = <usize>i << 2;
      const pi = load<f32>(p + o);
      const vel = momentum * (map1(table, codes + i) * old) + (load<f32>(g + o) + weightDecay * pi);
      t = max(t, abs(vel));
      store<f32>(scratch + (<usize>(i - from) << 2), vel);
      store<f32>(p + o, pi - lr * vel);
    }
    const next = max(hmax(mx), t);
    requantize(table, codes + from, scratch, to - from, next);
    store<f32>(absmax + (<usize>blk << 2), next);
  }
}
