import { fail } from './errors.js';

/**
 * Seeded generator (xoshiro128**, seeded through splitmix32). Its whole state is four uint32s, so a
 * checkpoint can save and restore it and a resumed run draws the same numbers.
 *
 * Code that needs several independent streams from one run seed takes each by name with `Rng.stream(seed, name)`
 * rather than by arithmetic on the seed: NoProp's block t once drew from `seed * 1000 + 500 + t`, the head's stream
 * `seed * 1000 + 998` at t = 498, and `seed + 1` of one run is `seed` of the next.
 */
export class Rng {
  private s = new Uint32Array(4);

  /**
   * The stream called `name` of run `seed`: (seed, UTF-8 name) hashed to the 128-bit xoshiro state. It depends on
   * nothing else — not on which thread asks, in what order, or what else was drawn — so every worker that builds a
   * rule from the same config gets the same streams. Names are paths by convention (`noprop/block/3/train`,
   * `tpsgd/projection`). `seed` is any safe integer; distinct (seed, name) pairs give unrelated streams (a collision
   * needs two 64-bit hashes to agree).
   */
  static stream(seed: number, name: string): Rng {
    if (!Number.isSafeInteger(seed))
      fail('INVALID_ARGUMENT', `a stream seed must be a safe integer, not ${seed}`, 'pass an integer seed');
    const r = new Rng();
    r.s.set(streamState(BigInt(seed), name));
    if ((r.s[0] | r.s[1] | r.s[2] | r.s[3]) === 0) r.s[0] = 1; // xoshiro's one forbidden state
    return r;
  }

  constructor(seed = 0) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A uint32. */
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform in [0, 1) with 24 bits, exactly representable in float32. */
  uniform(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** Standard normal by Box–Muller; two uniforms per draw keeps the state simple. */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  getState(): number[] {
    return Array.from(this.s);
  }
  setState(state: readonly number[]): void {
    this.s.set(state);
  }
}

const M64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

/** splitmix64's finaliser (Stafford's mix 13): a bijection on 64 bits; every output bit depends on every input bit. */
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

/**
 * Four uint32s from (seed, name): the seed (as 64-bit two's complement), the name's byte length and its UTF-8 bytes
 * in 8-byte little-endian words are absorbed one word at a time into two 64-bit lanes (h ← mix(h ⊕ word + k), with
 * different constants per lane), so names of different lengths or that differ in any byte part at once; the lanes
 * are mixed once more and give the state. Strings are hashed rarely (once per stream), so BigInt's cost is immaterial.
 */
function streamState(seed: bigint, name: string): Uint32Array {
  const bytes = new TextEncoder().encode(name);
  const words = [seed & M64, BigInt(bytes.length)];
  for (let i = 0; i < bytes.length; i += 8) {
    let w = 0n;
    for (let k = Math.min(7, bytes.length - 1 - i); k >= 0; k--) w = (w << 8n) | BigInt(bytes[i + k]);
    words.push(w);
  }
  let a = 0x6a09e667f3bcc908n,
    b = 0xbb67ae8584caa73bn;
  for (const w of words) {
    a = mix64(((a ^ w) + GOLDEN) & M64);
    b = mix64(((b ^ w) + 0xd1b54a32d192ed03n) & M64);
  }
  a = mix64((a + b) & M64);
  b = mix64(((b ^ a) + GOLDEN) & M64);
  const out = new Uint32Array(4);
  out[0] = Number(a & 0xffffffffn);
  out[1] = Number(a >> 32n);
  out[2] = Number(b & 0xffffffffn);
  out[3] = Number(b >> 32n);
  return out;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
