/**
 * The fused 8-bit optimiser kernel (OptimizerStep8bit): the js reference against a float64 restatement of one step
 * (dequantise, update, new absmax, nearest map value), and both wasm builds against the js reference bit for bit
 * (both round every operation to f32 in the same order, with no fused multiply-add).
 */
import { describe, expect, it } from 'vitest';
import { codeTable, dynamicMap } from '../../../src/learn/optim/index.js';
import { codeByBucket, codeOf } from '../../../src/backend/js/kernels/optimizer8bit.js';
import { Rng } from '../../../src/index.js';
import { accelerated, expectClose, js } from '../helpers.js';
import { cases8, run8, start8, type Case8, type State8 } from './optimizer8bit-cases.js';

const maps = [dynamicMap(true), dynamicMap(false)];

/** One step of case `c` from `start8` in float64: each slot's map (signed m / velocity, unsigned v). */
function reference(c: Case8, seed: number): State8 & { nearTie: boolean[][] } {
  const s = start8(c, seed);
  const a = c.attrs(1),
    bs = c.blockSize,
    n = c.n;
  const p = Float64Array.from(s.p),
    g = s.grads[0];
  const next = s.codes.map(() => new Float64Array(n));
  // the kernel's contract: its constants arrive as f32 (1 − f32(0.999) is 1.3e-5 away from 0.001), then float64
  const f = Math.fround;
  for (let i = 0; i < n; i++) {
    const blk = Math.floor(i / bs);
    const old = s.codes.map((codes, k) => maps[k][codes[i]] * s.absmax[k][blk]);
    if (a.kind === 'sgd') {
      next[0][i] = f(a.momentum) * old[0] + (g[i] + f(a.weightDecay) * p[i]);
      p[i] -= f(a.lr) * next[0][i];
    } else {
      const b1 = f(a.beta1),
        b2 = f(a.beta2);
      const gi = g[i] + f(a.decoupled ? 0 : a.weightDecay) * p[i];
      next[0][i] = b1 * old[0] + f(1 - b1) * gi;
      next[1][i] = b2 * old[1] + f(1 - b2) * gi * gi;
      const mh = next[0][i] / (1 - a.beta1),
        vh = next[1][i] / (1 - a.beta2);
      p[i] = p[i] * f(a.decoupled ? 1 - a.lr * a.weightDecay : 1) - (a.lr * mh) / (Math.sqrt(vh) + a.epsilon);
    }
  }
  const blocks = Math.ceil(n / bs);
  const absmax = next.map((x) =>
    Float32Array.from({ length: blocks }, (_, b) =>
      x.subarray(b * bs, (b + 1) * bs).reduce((m, v) => Math.max(m, Math.abs(v)), 0),
    ),
  );
  const nearTie = next.map(() => [] as boolean[]);
  const codes = next.map((x, k) =>
    Uint8Array.from(x, (v, i) => {
      const amax = absmax[k][Math.floor(i / bs)];
      const y = amax > 0 ? v / amax : 0;
      let best = 0;
      for (let j = 1; j < 256; j++) if (Math.abs(y - maps[k][j]) < Math.abs(y - maps[k][best])) best = j;
      // v's table keeps a positive value off the code of 0 (codeTable's positiveStaysPositive)
      if (k === 1 && y > 0 && best === 0) best = 1;
      // within f32 rounding of the midpoint to a neighbour: the f32 kernel may take either side
      const gap = (j: number) => Math.abs(Math.abs(y - maps[k][best]) - Math.abs(y - maps[k][j]));
      nearTie[k][i] = [best - 1, best + 1].some(
        (j) => j >= 0 && j < 256 && gap(j) < 1e-6 * Math.max(1e-3, Math.abs(y)),
      );
      return best;
    }),
  );
  return { p: Float32Array.from(p), codes, absmax, nearTie };
}

describe('the js 8-bit optimiser kernel against a float64 restatement of one step', { tags: ['hand-computed'] }, () => {
  it.each(cases8.map((c, i) => [c.name, c, i] as const))('%s', async (_n, c, i) => {
    const seed = 500 + i;
    const got = await run8(js, { ...c, steps: 1 }, seed),
      ref = reference({ ...c, steps: 1 }, seed);
    expectClose(got.p, ref.p, 1e-5, 1e-6, `${c.name} p`);
    for (const [k, a] of got.absmax.entries()) expectClose(a, ref.absmax[k], 1e-5, 0, `${c.name} absmax ${k}`);
    got.codes.forEach((codes, k) => {
      for (let j = 0; j < c.n; j++)
        if (codes[j] !== ref.codes[k][j] && !ref.nearTie[k][j])
          expect.fail(`${c.name} slot ${k} element ${j}: code ${codes[j]}, float64 ${ref.codes[k][j]}`);
    });
    // the block at absmax 0 decodes to zeros: its new state is the step's own gradient term alone
    if (c.n > c.blockSize) expect(got.absmax[0][1]).toBeGreaterThan(0);
  });
});

describe.each(accelerated.map((b) => [b.flavour, b] as const))(
  '%s 8-bit kernel = js, bit for bit',
  { tags: ['js-oracle'] },
  (_f, b) => {
    it.each(cases8.map((c, i) => [c.name, c, i] as const))('%s, 3 steps', async (_n, c, i) => {
      const [want, got] = [await run8(js, c, 900 + i), await run8(b, c, 900 + i)];
      expect(Array.from(new Uint32Array(got.p.buffer)), 'p bits').toEqual(Array.from(new Uint32Array(want.p.buffer)));
      for (const [k, codes] of got.codes.entries())
        expect(Array.from(codes), `codes ${k}`).toEqual(Array.from(want.codes[k]));
      for (const [k, a] of got.absmax.entries())
        expect(Array.from(a), `absmax ${k}`).toEqual(Array.from(want.absmax[k]));
      expect(
        got.pad.every((x) => x === 0),
        'pad bytes stay 0',
      ).toBe(true);
    });
  },
);

it('the code tables hold the map, then ascending thresholds between its neighbours', { tags: ['invariant'] }, () => {
  for (const map of maps) {
    const t = codeTable(map);
    for (let k = 0; k < 255; k++) {
      expect(t[256 + k]).toBeGreaterThanOrEqual(map[k]);
      expect(t[256 + k]).toBeLessThan(map[k + 1]);
      expect(t[256 + k]).toBeLessThanOrEqual((map[k] + map[k + 1]) / 2);
    }
  }
});

it("the bucket lookup of the wasm and WGSL kernels finds the binary search's code for every kind of value", {
  tags: ['invariant'],
}, () => {
  const rng = new Rng(4);
  const tables = [...maps.map((m) => codeTable(m)), codeTable(maps[1], { positiveStaysPositive: true })];
  for (const t of tables) {
    const map = t.subarray(0, 256);
    const xs: number[] = [0, -0, 1, -1, 2 ** -30, -(2 ** -30), 1e-45, -1e-45];
    // every threshold and map value, and the f32 neighbours of each
    const bits = new Float32Array(1),
      word = new Int32Array(bits.buffer);
    for (let k = 0; k < 255 + 256; k++) {
      const v = k < 255 ? t[256 + k] : map[k - 255];
      for (const d of [-1, 0, 1]) {
        bits[0] = v;
        word[0] += d;
        xs.push(bits[0]);
      }
    }
    // and values spread over every exponent in [−1, 1]
    for (let k = 0; k < 20000; k++) xs.push(Math.fround((rng.uniform() < 0.5 ? -1 : 1) * 2 ** (-40 * rng.uniform())));
    for (const x of xs) if (Math.abs(x) <= 1 && codeByBucket(t, x) !== codeOf(t, x)) expect.fail(`x = ${x}`);
  }
});
