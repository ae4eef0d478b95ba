// @module-tag js-oracle
/** The recurrent layers on WebGPU (ops composed, no kernel of their own): forward and BPTT agree with js. */
import { describe, it } from 'vitest';
import { nn, Rng, tensor, tidy, type Backend, type Tensor } from '../../../src/index.js';
import { expectClose, js, randomArray } from '../helpers.js';
import { gpu } from '../webgpu-backend.js';

async function run(kind: 'rnn' | 'gru', b: Backend) {
  const [B, T, F, H] = [5, 6, 7, 9];
  const model = new nn.Sequential(
    { input: [T, F], layers: [{ type: kind, units: H, returnSequence: true }] },
    { backend: b, rng: new Rng(3) },
  );
  const rng = new Rng(5);
  const x = tensor(randomArray(rng, B * T * F, -2, 2), [B, T, F], 'float32', b);
  const out = tidy(() => {
    const { y, caches } = model.forward(x, { training: true });
    const dy = tensor(randomArray(rng, y.size), [...y.shape], 'float32', b);
    const g = model.backwardWithCache(dy, caches);
    return { y, dx: g.dx!, ...g.grads };
  }) as Record<string, Tensor>;
  const values: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(out)) {
    values[k] = (await t.data()) as Float32Array;
    t.dispose();
  }
  x.dispose();
  return values;
}

describe.each(['rnn', 'gru'] as const)('%s on webgpu', (kind) => {
  it('forward and BPTT (sequence output) agree with js', async () => {
    const want = await run(kind, js),
      got = await run(kind, gpu);
    for (const k of Object.keys(want)) expectClose(got[k], want[k], 1e-4, 1e-5, k);
  });
});
