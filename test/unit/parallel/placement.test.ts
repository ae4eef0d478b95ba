// @module-tag invariant
/** Placement: balanced contiguous stages for pipelines, longest-first for independent groups, memory caps. */
import { describe, expect, it } from 'vitest';
import {
  assignIndependent,
  makePlan,
  partitionContiguous,
  type GroupCost,
  type RuleConfig,
} from '../../../src/index.js';

const costs = (ms: number[], bytes = ms.map(() => 1)): GroupCost[] =>
  ms.map((m, i) => ({ name: `g${i}`, ms: m, bytes: bytes[i] }));

describe('placement', () => {
  it('cuts a pipeline where the slowest stage is least slow', () => {
    expect(partitionContiguous(costs([5, 1, 1, 1, 1, 1]), 2)).toEqual([
      [0, 1],
      [1, 6],
    ]);
    expect(partitionContiguous(costs([1, 2, 3, 4, 5, 6]), 3)).toEqual([
      [0, 3],
      [3, 5],
      [5, 6],
    ]);
    // more workers than groups: one group a stage
    expect(partitionContiguous(costs([2, 3]), 4)).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it('respects a memory cap per worker, and says when nothing fits', () => {
    // by time alone [g0 g1 | g2 g3]; g0 + g1 would need 10 bytes
    expect(partitionContiguous(costs([1, 1, 1, 1], [6, 4, 1, 1]), 2)).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(partitionContiguous(costs([1, 1, 1, 1], [6, 4, 1, 1]), 2, 7)).toEqual([
      [0, 1],
      [1, 4],
    ]);
    expect(() => partitionContiguous(costs([1, 1], [6, 6]), 1, 7)).toThrow(/do not fit 1 workers of 7 bytes/);
    expect(() => assignIndependent(costs([1, 1], [6, 6]), 2, 5)).toThrow(/group g0 \(6 bytes\) fits no worker/);
  });

  it('spreads independent groups longest first, each worker keeping model order', () => {
    expect(assignIndependent(costs([4, 4, 4, 1, 1, 1, 1]), 2)).toEqual([
      [0, 2],
      [1, 3, 4, 5, 6],
    ]); // 8 and 8
    const c: RuleConfig = {
      rule: 'noprop-dt',
      model: 'mlp',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 0,
      optimizer: { type: 'adam', lr: 1e-3 },
    };
    const plan = makePlan(c, costs([3, 3, 3, 3, 1]), 2);
    expect(plan.mode).toBe('independent');
    expect(plan.stages.map((s) => s.ms)).toEqual([7, 6]);
    expect(plan.bound).toBeCloseTo(13 / 7, 12);
    expect(makePlan({ ...c, rule: 'tpsgd' }, costs([3, 3, 3, 3, 1]), 2).stages.map((s) => s.groups)).toEqual([
      ['g0', 'g1'],
      ['g2', 'g3', 'g4'],
    ]);
  });
});
