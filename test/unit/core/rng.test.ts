// @module-tag invariant
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/index.js';

describe('seeded RNG', () => {
  it('the same seed gives the same stream; another seed another', () => {
    const a = new Rng(123),
      b = new Rng(123),
      c = new Rng(124);
    const sa = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('uniform lies in [0, 1) with mean ½ and normal has mean 0, variance 1', () => {
    const r = new Rng(9),
      n = 200_000;
    let su = 0,
      sn = 0,
      sn2 = 0,
      lo = 1,
      hi = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      su += u;
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(Math.abs(su / n - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sn / n)).toBeLessThan(0.01);
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(0.02);
  });

  it('a saved state resumes the exact stream', () => {
    const r = new Rng(5);
    for (let i = 0; i < 10; i++) r.normal();
    const state = r.getState();
    const next = Array.from({ length: 5 }, () => r.uniform());
    const resumed = new Rng(0);
    resumed.setState(state);
    expect(Array.from({ length: 5 }, () => resumed.uniform())).toEqual(next);
  });
});
