/**
 * The WGSL 8-bit optimiser kernel against the js reference (Node, the `webgpu` package), on the cases the wasm
 * kernels match bit for bit. WGSL lets division and sqrt be a few ulp off, so exact bits are not owed: the parameter
 * within 1e-5 relative, the block maxima within 1e-5, and a code may differ from the reference's by one step of the
 * map in at most 1 value in 1 000 (a state value that lands within rounding of a threshold). On SwiftShader every
 * case was exact when this was written.
 */
import { describe, expect, it } from 'vitest';
import { gpu } from '../webgpu-backend.js';
import { expectClose, js } from '../helpers.js';
import { cases8, run8 } from './optimizer8bit-cases.js';

describe(`webgpu (${gpu.capabilities().adapter}) 8-bit kernel agrees with js`, { tags: ['js-oracle'] }, () => {
  it.each(cases8.map((c, i) => [c.name, c, i] as const))('%s, 3 steps', async (_n, c, i) => {
    const [want, got] = [await run8(js, c, 900 + i), await run8(gpu, c, 900 + i)];
    expectClose(got.p, want.p, 1e-5, 1e-6, `${c.name} p`);
    for (const [k, a] of got.absmax.entries()) expectClose(a, want.absmax[k], 1e-5, 0, `${c.name} absmax ${k}`);
    got.codes.forEach((codes, k) => {
      let off = 0;
      for (let j = 0; j < c.n; j++) {
        const d = Math.abs(codes[j] - want.codes[k][j]);
        if (d > 1) expect.fail(`${c.name} slot ${k} element ${j}: code ${codes[j]}, js ${want.codes[k][j]}`);
        off += d;
      }
      expect(off, `${c.name} slot ${k}: codes one step off`).toBeLessThanOrEqual(Math.floor(c.n / 1000));
    });
    expect(
      got.pad.every((x) => x === 0),
      'pad bytes are 0',
    ).toBe(true);
  });
});
