// @module-tag hand-computed
/** The confidence-threshold attack on cases whose answer is known. */
import { describe, expect, it } from 'vitest';
import { membershipAttack, miaEfficacy } from '../../../../src/learn/unlearn/mia.js';

describe('membership-inference attack', () => {
  it('separable: the threshold falls in the gap; forget half members → efficacy 0.5', () => {
    const member = [0.9, 0.95, 0.8, 0.99],
      non = [0.1, 0.3, 0.5, 0.2];
    const a = membershipAttack(member, non);
    expect(a.fitAccuracy).toBe(1);
    expect(a.threshold).toBeCloseTo(0.65, 10);
    expect(a.membersAbove).toBe(true);
    expect(miaEfficacy(a, [0.97, 0.85, 0.05, 0.4])).toBe(0.5);
    expect(miaEfficacy(a, [0.7, 0.7])).toBe(0);
  });

  it('members scoring lower: the attack turns its side', () => {
    const a = membershipAttack([0.1, 0.2], [0.8, 0.9]);
    expect(a.membersAbove).toBe(false);
    expect(a.isMember(0.15)).toBe(true);
    expect(a.isMember(0.85)).toBe(false);
  });

  it('overlap: the best threshold on 1-D data, worked out by hand', () => {
    // sorted: .1n .2m .3n .4m .5m .6n; "member at or above t" is right for 4 of 6 at t = .35 (.4m .5m, .1n .3n)
    // and equally at t = .15 (.2m .4m .5m, .1n) — the lowest wins the tie
    const a = membershipAttack([0.2, 0.4, 0.5], [0.1, 0.3, 0.6]);
    expect(a.fitAccuracy).toBeCloseTo(4 / 6, 12);
    expect(a.threshold).toBeCloseTo(0.15, 12);
    expect(a.membersAbove).toBe(true);
  });

  it('indistinguishable: no better than chance', () => {
    const a = membershipAttack([0.5, 0.5], [0.5, 0.5]);
    expect(a.fitAccuracy).toBe(0.5);
  });

  it('no samples is a typed error', () => {
    expect(() => membershipAttack([], [0.1])).toThrow(/needs member and non-member/);
  });
});
