// @module-tag behaviour
/** Forget/retain splits: what goes where, and the typed errors for requests that name nothing or too much. */
import { describe, expect, it } from 'vitest';
import {
  concatDatasets,
  randomForgetIndices,
  splitByClass,
  splitByIndices,
} from '../../../../src/learn/unlearn/split.js';
import { tinyData } from './tiny.js';

const ds = tinyData(12, 1);

describe('forget splits', () => {
  it('indices: forget holds those rows (ascending), retain the rest in order', () => {
    const s = splitByIndices(ds, [7, 2]);
    expect([...s.forgetIndices]).toEqual([2, 7]);
    expect(s.forget.count).toBe(2);
    expect(s.retain.count).toBe(10);
    expect([...s.forget.images.subarray(4, 8)]).toEqual([...ds.images.subarray(28, 32)]);
    expect([...s.retain.labels]).toEqual([0, 1, 0, 1, 2, 0, 2, 0, 1, 2]);
  });

  it('class: every sample of the class and nothing else', () => {
    const s = splitByClass(ds, 1);
    expect([...s.forgetIndices]).toEqual([1, 4, 7, 10]);
    expect([...s.retain.labels].includes(1)).toBe(false);
  });

  it('random: the fraction, rounded, distinct, repeatable by seed', () => {
    const a = randomForgetIndices(1000, 0.1, 5);
    expect(a.length).toBe(100);
    expect(new Set(a).size).toBe(100);
    expect([...randomForgetIndices(1000, 0.1, 5)]).toEqual([...a]);
    expect([...randomForgetIndices(1000, 0.1, 6)]).not.toEqual([...a]);
  });

  it('concat keeps both, in order', () => {
    const c = concatDatasets(splitByIndices(ds, [0]).forget, splitByIndices(ds, [0]).retain);
    expect([...c.labels]).toEqual([...ds.labels]);
    expect([...c.images]).toEqual([...ds.images]);
  });

  it('typed errors: empty, out of range, repeated, everything, a class absent or unknown, a bad fraction', () => {
    expect(() => splitByIndices(ds, [])).toThrow(/forget set is empty/);
    expect(() => splitByIndices(ds, [12])).toThrow(/outside the training set's 12 samples/);
    expect(() => splitByIndices(ds, [-1])).toThrow(/outside/);
    expect(() => splitByIndices(ds, [1.5])).toThrow(/outside/);
    expect(() => splitByIndices(ds, [3, 3])).toThrow(/listed twice/);
    expect(() =>
      splitByIndices(
        ds,
        Array.from({ length: 12 }, (_, i) => i),
      ),
    ).toThrow(/whole training set/);
    expect(() => splitByClass(ds, 3)).toThrow(/not one of the 3 classes/);
    expect(() => splitByClass({ ...ds, classes: 5 }, 4)).toThrow(/holds no sample of class 4/);
    expect(() => randomForgetIndices(10, 0, 1)).toThrow(/not in \(0, 1\)/);
  });
});
