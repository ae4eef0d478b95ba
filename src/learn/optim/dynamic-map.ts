import { BUCKET_BITS, BUCKETS, EMIN, TABLE_SIZE, THRESHOLDS } from '../../backend/js/kernels/optimizer8bit.js';

/**
 * The dynamic tree quantisation map of Dettmers et al., "8-bit Optimizers via Block-wise Quantization" (ICLR 2022),
 * restated from bitsandbytes' `create_dynamic_map(signed, max_exponent_bits=7, total_bits=8)`: for each exponent
 * i = 0…6, the values 10^(i−6)·mean, where the means are the midpoints of `linspace(0.1, 1, k + 1)` with
 * k = 2^i fractions when signed (each also negated) and k = 2^(i+1) when unsigned (the sign bit goes to the
 * fraction); then 0 and 1. Signed: 127 negative, 0, 127 positive and 1 (no −1); unsigned: 0, 254 positive, 1 —
 * 256 sorted values either way. As bitsandbytes' optimizers do, the signed map codes Adam's first moment and SGD's
 * momentum, the unsigned one ("udynamic") Adam's second moment. bitsandbytes computes the means in float32 torch
 * arithmetic; here they are computed in float64 and rounded once, which can differ in the last bit of a value.
 */
export function dynamicMap(signed: boolean): Float32Array {
  const values = [0, 1];
  for (let i = 0; i < 7; i++) {
    const k = signed ? 2 ** i : 2 ** (i + 1),
      scale = 10 ** (i - 6);
    for (let j = 0; j < k; j++) {
      const mean = 0.1 + (0.9 * (j + 0.5)) / k;
      values.push(scale * mean);
      if (signed) values.push(-scale * mean);
    }
  }
  return Float32Array.from(values.sort((a, b) => a - b));
}

/** The largest f32 not above x (x itself when it is an f32). */
function f32AtOrBelow(x: number): number {
  const r = Math.fround(x);
  if (r <= x) return r;
  const bits = new Float32Array([r]),
    word = new Int32Array(bits.buffer);
  // one ulp towards −∞: the bit pattern moves down for positives and up for negatives
  word[0] += r > 0 ? -1 : 1;
  if (r === 0) bits[0] = -1.4e-45;
  return bits[0];
}

/**
 * A code table as every backend's 8-bit kernel reads it (layout: optimizer8bit.ts in the js kernels): the 256 map
 * values, then 255 thresholds, then the bucket counts. Threshold k is the exact midpoint of values k and k+1 rounded
 * down to f32, so for an f32 x, "x > threshold k" is "x is nearer value k+1 than value k" exactly, a tie staying
 * with the lower value. The code of x is how many thresholds lie below it.
 *
 * `positiveStaysPositive` (for Adam's v, whose map starts at 0): the first threshold is 0, so a value above 0 takes
 * at least the smallest positive code instead of rounding to 0. Nearest rounding sends every v under ~1.6e-7 of its
 * block's absmax to 0 — |g| under 4e-4 of the block's largest — while m, which spans the decades of g and not of g²,
 * keeps such an element's history; the next step's m̂/(√v̂ + ε) then divides by ε alone where g is 0 or tiny: on
 * the NoProp-DT CNN a weight moved 2·10⁶·lr in one step. Rounding v up there only shortens that element's step.
 */
export function codeTable(map: Float32Array, opts: { positiveStaysPositive?: boolean } = {}): Float32Array {
  const table = new Float32Array(TABLE_SIZE),
    counts = new Uint32Array(table.buffer);
  table.set(map);
  const thr = new Float32Array(255);
  for (let k = 0; k < 255; k++) thr[k] = f32AtOrBelow((map[k] + map[k + 1]) / 2);
  if (opts.positiveStaysPositive) {
    if (map[0] !== 0) throw new Error('positiveStaysPositive needs a map that starts at 0');
    thr[0] = 0;
  }
  table.set(thr, THRESHOLDS);
  table.fill(3, THRESHOLDS + 255, BUCKETS);
  const below = (y: number) => thr.reduce((n, t) => n + (t < y ? 1 : 0), 0);
  // the kernels clamp smaller exponents to EMIN's buckets: those must hold no threshold but 0 (in the lowest
  // positive bucket, which therefore counts from +0: +0 and every tiny positive value land there)
  if (thr.some((t) => t !== 0 && Math.abs(t) < 2 ** (EMIN - 126)))
    throw new Error('a threshold lies in the smallest buckets');
  const bits = new Uint32Array(2),
    val = new Float32Array(bits.buffer);
  const span = 1 << BUCKET_BITS;
  for (let sign = 0; sign < 2; sign++)
    for (let e = EMIN; e < 128; e++)
      for (let m = 0; m < span; m++) {
        const low = (e << 23) | (m << (23 - BUCKET_BITS));
        bits[0] = ((sign << 31) | low) >>> 0; // the bucket's smallest magnitude
        bits[1] = ((sign << 31) | low | ((1 << (23 - BUCKET_BITS)) - 1)) >>> 0; // its largest
        const [lo, hi] = sign ? [val[1], val[0]] : [e === EMIN && m === 0 ? 0 : val[0], val[1]];
        const c0 = below(lo);
        // the kernels check one threshold after c0: a bucket must hold at most one (the map's spacing is wider
        // than a bucket everywhere: 0.007 against 0.0039 at the top, and ten times finer a decade down)
        if (thr.reduce((n, t) => n + (t >= lo && t <= hi ? 1 : 0), 0) > 1)
          throw new Error(`bucket ${sign}/${e}/${m} holds more than one threshold`);
        counts[BUCKETS + (sign * (128 - EMIN) + (e - EMIN)) * span + m] = c0;
      }
  return table;
}
