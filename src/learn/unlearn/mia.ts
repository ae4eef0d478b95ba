import { fail } from '../../core/errors.js';

/** A confidence-threshold membership-inference attack, fitted on samples known to be members and non-members. */
export interface MembershipAttack {
  /** A sample is called a member when its confidence is ≥ threshold (or ≤, when members score lower). */
  threshold: number;
  membersAbove: boolean;
  /** Its accuracy on the samples it was fitted on (0.5 = it tells them apart no better than chance). */
  fitAccuracy: number;
  isMember(confidence: number): boolean;
}

/**
 * The MIA of SalUn's evaluation (the paper's code: an SVC on each sample's confidence in its true label, trained on
 * retain samples as members and test samples as non-members, as many of each). On one feature a classifier is a
 * set of intervals; we fit the simplest, one threshold and a side, that classifies the fitting samples best (ties:
 * the lowest threshold). `member` and `nonMember` should be of equal size, as the paper balances them.
 */
export function membershipAttack(member: ArrayLike<number>, nonMember: ArrayLike<number>): MembershipAttack {
  if (member.length === 0 || nonMember.length === 0)
    fail('INVALID_ARGUMENT', 'the attack needs member and non-member samples', 'pass retain and test confidences');
  const all = [...Array.from(member, (v) => ({ v, m: 1 })), ...Array.from(nonMember, (v) => ({ v, m: 0 }))].sort(
    (a, b) => a.v - b.v,
  );
  const n = all.length;
  // sweep thresholds between distinct values: at each, members at or above and non-members below are right
  let membersBelow = 0,
    nonBelow = 0;
  let best = { correct: -1, threshold: -Infinity, above: true };
  for (let i = 0; i <= n; i++) {
    if (i === 0 || i === n || all[i].v !== all[i - 1].v) {
      const threshold = i === 0 ? -Infinity : i === n ? Infinity : (all[i - 1].v + all[i].v) / 2;
      const aboveRight = member.length - membersBelow + nonBelow;
      const belowRight = n - aboveRight;
      if (aboveRight > best.correct) best = { correct: aboveRight, threshold, above: true };
      if (belowRight > best.correct) best = { correct: belowRight, threshold, above: false };
    }
    if (i < n) {
      if (all[i].m) membersBelow++;
      else nonBelow++;
    }
  }
  const { threshold, above } = best;
  return {
    threshold,
    membersAbove: above,
    fitAccuracy: best.correct / n,
    isMember: (c) => (above ? c >= threshold : c < threshold),
  };
}

/** MIA-Efficacy: the share of the forget set the attack calls non-members (higher: less of it is remembered). */
export function miaEfficacy(attack: MembershipAttack, forget: ArrayLike<number>): number {
  let non = 0;
  for (let i = 0; i < forget.length; i++) if (!attack.isMember(forget[i])) non++;
  return non / forget.length;
}
