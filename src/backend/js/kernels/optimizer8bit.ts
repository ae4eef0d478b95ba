import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import type { OptimizerStep8bitAttrs } from '../../kernel-attrs.js';
import { f32, i32 } from './views.js';

/**
 * The fused 8-bit optimiser updates (see OptimizerStep8bitAttrs): per block, dequantise the state, update it and the
 * parameter, requantise the state with the block's new absmax. Every operation is rounded to f32 (Math.fround) in
 * the order the wasm kernel computes it, so the two agree bit for bit: a state value one rounding away from a
 * threshold would otherwise get another code.
 */

const f = Math.fround;
/**
 * A code table (f32): [0, 256) the map values; [256, 511) the 255 ascending thresholds; [511, 520) pad (3, above any
 * normalised value); from BUCKETS, per bucket of f32 values (sign, biased exponent EMIN…127, top BUCKET_BITS
 * mantissa bits) how many thresholds lie below the bucket's lowest value, an integer stored as its u32 bits (a tiny
 * denormal float, never NaN, so copies keep it; read without a conversion). No bucket holds more than one threshold
 * (codeTable checks), so the wasm and WGSL kernels find a code with two loads (`codeByBucket`) where a binary search
 * takes eight dependent ones; this reference keeps the binary search.
 */
export const THRESHOLDS = 256;
export const BUCKETS = 520;
export const EMIN = 101;
export const BUCKET_BITS = 7;
export const TABLE_SIZE = BUCKETS + 2 * (128 - EMIN) * (1 << BUCKET_BITS);

/**
 * The code of a normalised value x: how many of the 255 ascending thresholds lie below x, by an 8-step binary search.
 * The thresholds are the midpoints between neighbouring map values rounded down to f32, so this is the nearest map
 * value, ties going to the lower one.
 */
export function codeOf(table: Float32Array, x: number): number {
  let lo = 0;
  for (let step = 128; step >= 1; step >>= 1) if (table[THRESHOLDS + lo + step - 1] < x) lo += step;
  return lo;
}

const bits32 = new Uint32Array(1),
  float32 = new Float32Array(bits32.buffer);
/**
 * The same code as codeOf from the bucket counts, as the wasm and WGSL kernels find it: the bucket of x (its sign,
 * exponent and top mantissa bits) gives how many thresholds lie below the bucket, then at most one more can lie
 * below x. Exponents under EMIN are clamped to it: those buckets hold no threshold and count those below 0.
 */
export function codeByBucket(table: Float32Array, x: number): number {
  const counts = new Uint32Array(table.buffer, table.byteOffset, table.length);
  float32[0] = x;
  const b = bits32[0],
    e = Math.min(Math.max((b >>> 23) & 255, EMIN), 127);
  const bucket = (((b >>> 31) * (128 - EMIN) + e - EMIN) << BUCKET_BITS) + ((b >>> (23 - BUCKET_BITS)) & 127);
  const c0 = counts[BUCKETS + bucket];
  return c0 + (table[THRESHOLDS + c0] < x ? 1 : 0);
}

/** The code of x in a block of absmax `amax` (a block of zeros has absmax 0: every value is 0). */
export const quantizeValue = (table: Float32Array, x: number, amax: number): number =>
  codeOf(table, amax > 0 ? f(x / amax) : 0);

/** Little-endian bytes of a packed code tensor (four codes to an int32 word). */
export const codeBytes = (b: CpuBackend, t: Tensor): Uint8Array => {
  const w = i32(b, t);
  return new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
};

interface Slot {
  table: Float32Array;
  codes: Uint8Array;
  absmax: Float32Array;
}

export function optimizerStep8bitRef(b: CpuBackend, inputs: readonly Tensor[], a: OptimizerStep8bitAttrs): Tensor[] {
  const p = f32(b, inputs[0]),
    g = f32(b, inputs[1]);
  const slot = (k: number): Slot => ({
    table: f32(b, inputs[k]),
    codes: codeBytes(b, inputs[k + 1]),
    absmax: f32(b, inputs[k + 2]),
  });
  const s1 = slot(2),
    s2 = a.kind === 'adam' ? slot(5) : null;
  const n = p.length,
    bs = a.blockSize;
  // the block's new state in f32, kept between the pass that finds its absmax and the pass that codes it
  const new1 = new Float32Array(bs),
    new2 = new Float32Array(bs);
  const c = a.kind === 'adam' ? adamConstants(a) : null;
  for (let blk = 0, from = 0; from < n; blk++, from += bs) {
    const to = Math.min(n, from + bs);
    const amax1 = s1.absmax[blk],
      amax2 = s2 ? s2.absmax[blk] : 0;
    let max1 = 0,
      max2 = 0;
    for (let i = from; i < to; i++) {
      const m = f(s1.table[s1.codes[i]] * amax1);
      if (a.kind === 'sgd') {
        const d = f(f(g[i]) + f(f(a.weightDecay) * p[i]));
        const vel = f(f(f(a.momentum) * m) + d);
        new1[i - from] = vel;
        max1 = Math.max(max1, Math.abs(vel));
        p[i] = f(p[i] - f(f(a.lr) * vel));
      } else {
        const k = c!,
          v = f(s2!.table[s2!.codes[i]] * amax2);
        const gi = f(g[i] + f(k.l2 * p[i]));
        const mi = f(f(k.b1 * m) + f(k.a1 * gi));
        const vi = f(f(k.b2 * v) + f(k.a2 * f(gi * gi)));
        new1[i - from] = mi;
        new2[i - from] = vi;
        max1 = Math.max(max1, Math.abs(mi));
        max2 = Math.max(max2, vi);
        const denom = f(f(Math.sqrt(f(vi / k.c2))) + k.eps);
        p[i] = f(f(p[i] * k.keep) - f(f(k.step * mi) / denom));
      }
    }
    s1.absmax[blk] = max1;
    for (let i = from; i < to; i++) s1.codes[i] = quantizeValue(s1.table, new1[i - from], max1);
    if (s2) {
      s2.absmax[blk] = max2;
      for (let i = from; i < to; i++) s2.codes[i] = quantizeValue(s2.table, new2[i - from], max2);
    }
  }
  return [];
}

/** Adam's per-step constants as f32, as every backend passes them to its kernel. */
export function adamConstants(a: Extract<OptimizerStep8bitAttrs, { kind: 'adam' }>) {
  const c1 = 1 - a.beta1 ** a.step,
    b1 = f(a.beta1),
    b2 = f(a.beta2);
  return {
    b1,
    a1: f(1 - b1),
    b2,
    a2: f(1 - b2),
    l2: f(a.decoupled ? 0 : a.weightDecay),
    keep: f(a.decoupled ? 1 - a.lr * a.weightDecay : 1),
    step: f(a.lr / c1),
    c2: f(1 - a.beta2 ** a.step),
    eps: f(a.epsilon),
  };
}
