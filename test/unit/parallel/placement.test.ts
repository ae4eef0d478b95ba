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

  describe('threads against a cut (costs measured with 1 and 2 threads)', () => {
    const c: RuleConfig = {
      rule: 'tpsgd',
      model: 'mlp',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 0,
      optimizer: { type: 'adam', lr: 1e-3 },
    };
    const threaded = (ms: number[], ms2: number[]): GroupCost[] =>
      ms.map((m, i) => ({ name: `g${i}`, ms: m, bytes: 1, ms2: ms2[i] }));

    it('a segment that threads well and dominates: one stage of 2 threads beats the best cut', () => {
      // best cut [g0 | g1 g2] is slowest at 8; g0..g2 on 2 threads: 10 / (10 / 5.5) = 5.5
      const plan = makePlan(c, threaded([8, 1, 1], [4, 0.75, 0.75]), 2);
      expect(plan.stages).toEqual([{ worker: 0, groups: ['g0', 'g1', 'g2'], ms: 5.5, bytes: 3, threads: 2 }]);
      expect(plan.bound).toBeCloseTo(10 / 5.5, 12);
      expect(plan.cores).toBe(2);
    });

    it('segments that barely thread: the cut, one thread a stage', () => {
      const plan = makePlan(c, threaded([5, 5], [4.5, 4.5]), 2);
      expect(plan.stages.map((s) => [s.groups, s.threads, s.ms])).toEqual([
        [['g0'], 1, 5],
        [['g1'], 1, 5],
      ]);
    });

    it('cores beyond the stages go to the slowest stage, each thread adding what the second did', () => {
      // 2 stages [g0 | g1] and 2 spare threads: g0 (8 ms, 2 threads 5 ms: ×1.6) takes both → 8 / 2.2 ≈ 3.64
      const plan = makePlan(c, threaded([8, 3], [5, 2]), 2, Infinity, 4);
      expect(plan.stages.map((s) => s.threads)).toEqual([3, 1]);
      expect(plan.stages[0].ms).toBeCloseTo(8 / 2.2, 12);
      expect(plan.stages[1].ms).toBe(3);
    });

    it('without 2-thread costs every stage has one thread and the cut uses every worker, as before', () => {
      const plan = makePlan(c, costs([8, 1, 1]), 2, Infinity, 4);
      expect(plan.stages.map((s) => [s.groups.length, s.threads])).toEqual([
        [1, 1],
        [2, 1],
      ]);
    });

    it('a memory cap that one stage cannot hold keeps the cut', () => {
      const plan = makePlan(c, threaded([8, 1, 1], [4, 0.75, 0.75]), 2, 2);
      expect(plan.stages.map((s) => s.groups)).toEqual([['g0'], ['g1', 'g2']]);
    });
  });
});
