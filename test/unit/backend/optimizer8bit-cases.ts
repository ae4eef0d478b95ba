/**
 * The 8-bit optimiser kernel's cases, run the same way on every backend: a random starting state (random codes,
 * random block maxima, one block at absmax 0), then a few steps with random gradients; sizes with a partial last
 * block, a lone value, a SIMD tail, and blocks smaller than a workgroup's share.
 */
import * as lh from '../../../src/index.js';
import { Rng, tensor, type Backend, type Tensor } from '../../../src/index.js';
import { runKernel } from '../../../src/backend/engine.js';
import type { OptimizerStep8bitAttrs } from '../../../src/backend/kernel-attrs.js';
import { tableOf } from '../../../src/learn/optim/quantized-state.js';

export interface Case8 {
  name: string;
  n: number;
  blockSize: number;
  steps: number;
  attrs: (step: number) => OptimizerStep8bitAttrs;
}

const adam = (decoupled: boolean, blockSize: number) => (step: number) =>
  ({
    kind: 'adam',
    lr: 1e-2,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    weightDecay: 0.1,
    decoupled,
    step,
    blockSize,
  }) as const;
const sgd = (blockSize: number) => () =>
  ({ kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.01, blockSize }) as const;

export const cases8: Case8[] = [];
for (const [n, blockSize] of [
  [1, 2048],
  [37, 2048],
  [5003, 2048],
  [1030, 64],
  [4099, 1024],
] as const) {
  cases8.push(
    { name: `adam8bit n=${n} block=${blockSize}`, n, blockSize, steps: 3, attrs: adam(false, blockSize) },
    { name: `adamw8bit n=${n} block=${blockSize}`, n, blockSize, steps: 3, attrs: adam(true, blockSize) },
    { name: `sgd8bit n=${n} block=${blockSize}`, n, blockSize, steps: 3, attrs: sgd(blockSize) },
  );
}

export interface State8 {
  p: Float32Array;
  codes: Uint8Array[];
  absmax: Float32Array[];
}

/** The starting state of a case (the same for the same seed). */
export function start8(c: Case8, seed: number): State8 & { grads: Float32Array[] } {
  const rng = new Rng(seed);
  const slots = c.attrs(1).kind === 'adam' ? 2 : 1;
  const blocks = Math.ceil(c.n / c.blockSize);
  const absmax = Array.from({ length: slots }, (_, s) => {
    const a = rng.fillUniform(new Float32Array(blocks), 0.01, 0.5);
    if (blocks > 1) a[1] = 0;
    if (s === 1) for (let i = 0; i < blocks; i++) a[i] *= a[i]; // v is about m²
    return a;
  });
  const codes = absmax.map(() => Uint8Array.from({ length: c.n }, () => rng.int(256)));
  return {
    p: rng.fillUniform(new Float32Array(c.n), -1, 1),
    codes,
    absmax,
    grads: Array.from({ length: c.steps }, () => rng.fillUniform(new Float32Array(c.n), -1, 1)),
  };
}

const packed = (codes: Uint8Array, b: Backend): Tensor => {
  const words = new Int32Array(Math.ceil(codes.length / 4));
  new Uint8Array(words.buffer).set(codes);
  return tensor(words, [words.length], 'int32', b);
};

/** Runs case `c` on `b` from `start8(c, seed)` and reads back the parameter, codes and block maxima. */
export async function run8(b: Backend, c: Case8, seed: number): Promise<State8 & { pad: number[] }> {
  const s = start8(c, seed);
  // the optimizer's own tables: m (and momentum) signed, v unsigned with positive values kept off 0
  const tables = [tableOf('m'), tableOf('v')];
  const p = tensor(s.p, [c.n], 'float32', b);
  const slots = s.codes.map((codes, k) => ({
    table: tensor(tables[k], [tables[k].length], 'float32', b),
    codes: packed(codes, b),
    absmax: tensor(s.absmax[k], [s.absmax[k].length], 'float32', b),
  }));
  for (let k = 1; k <= c.steps; k++)
    lh.tidy(() => {
      const g = tensor(s.grads[k - 1], [c.n], 'float32', b);
      runKernel('OptimizerStep8bit', [p, g, ...slots.flatMap((x) => [x.table, x.codes, x.absmax])], c.attrs(k));
    });
  const out = {
    p: Float32Array.from((await p.data()) as Float32Array),
    codes: [] as Uint8Array[],
    absmax: [] as Float32Array[],
    pad: [] as number[],
  };
  for (const x of slots) {
    const words = Int32Array.from((await x.codes.data()) as Int32Array);
    const bytes = new Uint8Array(words.buffer);
    out.codes.push(bytes.slice(0, c.n));
    out.pad.push(...bytes.subarray(c.n));
    out.absmax.push(Float32Array.from((await x.absmax.data()) as Float32Array));
  }
  lh.dispose([p, ...slots.flatMap((x) => [x.table, x.codes, x.absmax])]);
  return out;
}
