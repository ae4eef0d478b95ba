/**
 * SmoothGrad's noise as Captum's NoiseTunnel takes it: an absolute σ (`noise`, Captum's `stdevs`), 1 by default;
 * the SmoothGrad paper's relative level as `noiseShare`·(max − min) of the input.
 */
import { describe, expect, it } from 'vitest';
import { explain, LayerhiveError, nn, Rng } from '../../../src/index.js';
import { js } from '../helpers.js';

const m = new nn.Sequential(
  { input: [8], layers: [{ type: 'dense', units: 6 }, { type: 'tanh' }, { type: 'dense', units: 2 }] },
  { backend: js, rng: new Rng(61) },
);
// a range of 3 (−1 … 2): the old default σ, 0.15 of it, was 0.45
const x = Float32Array.of(-1, 2, 0.5, 0, 1, -0.5, 1.5, 0.25);
const run = (o: object) => explain(m, x, { method: 'smoothgrad', target: 0, samples: 8, seed: 4, ...o });

describe('SmoothGrad noise (Captum NoiseTunnel: stdevs = 1 by default)', () => {
  it('no noise option draws σ = 1; noiseShare draws σ = share·(max − min); noise wins over noiseShare', {
    tags: ['behaviour'],
  }, async () => {
    const byDefault = await run({});
    expect(Array.from(byDefault.values)).toEqual(Array.from((await run({ noise: 1 })).values));
    expect(Array.from(byDefault.values)).not.toEqual(Array.from((await run({ noise: 0.45 })).values));
    const share = await run({ noiseShare: 0.15 });
    expect(Array.from(share.values)).toEqual(Array.from((await run({ noise: 0.15 * 3 })).values));
    const both = await run({ noise: 0.2, noiseShare: 0.15 });
    expect(Array.from(both.values)).toEqual(Array.from((await run({ noise: 0.2 })).values));
  });

  it('a negative or non-finite σ is a typed error naming the option', { tags: ['behaviour'] }, async () => {
    for (const [o, words] of [
      [{ noise: -1 }, /noise -1 /],
      [{ noiseShare: Number.NaN }, /noiseShare NaN /],
    ] as const) {
      const e = await run(o).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(LayerhiveError);
      expect((e as Error).message).toMatch(words);
    }
  });
});
