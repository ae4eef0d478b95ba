/**
 * 8-bit optimizers (block-wise dynamic quantisation, Dettmers et al. 2022): the dynamic map and the block quantiser
 * against a float64 restatement, 32-bit and 8-bit Adam side by side on a small MLP, the bytes of state, restoring
 * between 32-bit and 8-bit state, and the refused specs.
 */
import { describe, expect, it } from 'vitest';
import { createRule, Rng, tensor, tidy, type RuleConfig, type Tensor } from '../../../src/index.js';
import {
  codeTable,
  createOptimizer,
  dequantizeBlockwise,
  dynamicMap,
  quantizeBlockwise,
  type OptimizerSpec,
} from '../../../src/learn/optim/index.js';
import { bytesPerElement } from '../../../src/core/dtype.js';
import { wasmRelaxed } from '../helpers.js';

/** bitsandbytes' create_dynamic_map read literally, in float64: linspace boundaries, their means, 10^… scales. */
function restatedMap(signed: boolean): number[] {
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const items = signed ? 2 ** i + 1 : 2 ** (i + 1) + 1;
    const bounds = Array.from({ length: items }, (_, j) => 0.1 + (0.9 * j) / (items - 1));
    const means = bounds.slice(1).map((b, j) => (bounds[j] + b) / 2);
    for (const m of means) data.push(10 ** (-6 + i) * m);
    if (signed) for (const m of means) data.push(-(10 ** (-6 + i)) * m);
  }
  data.push(0, 1);
  return data.sort((a, b) => a - b);
}

/** The nearest map value's index to y in float64, a tie going to the lower index. */
function nearest(map: ArrayLike<number>, y: number): number {
  let best = 0;
  for (let k = 1; k < map.length; k++) if (Math.abs(y - map[k]) < Math.abs(y - map[best])) best = k;
  return best;
}

const ulp32 = (x: number) => Math.max(2 ** -149, Math.abs(x) * 2 ** -23);

describe('the dynamic map', { tags: ['hand-computed'] }, () => {
  it.each([true, false])(
    'signed=%s: 256 sorted values, equal to the float64 restatement within an f32 rounding',
    (s) => {
      const map = dynamicMap(s),
        ref = restatedMap(s);
      expect(map.length).toBe(256);
      expect(ref.length).toBe(256);
      for (let k = 0; k < 256; k++) {
        expect(Math.abs(map[k] - ref[k]), `value ${k}`).toBeLessThanOrEqual(ulp32(ref[k]));
        if (k) expect(map[k], `value ${k} ascends`).toBeGreaterThan(map[k - 1]);
      }
      expect(map[255]).toBe(1);
      expect(map.indexOf(0)).toBe(s ? 127 : 0);
      // the finest positive value is 10⁻⁶ times the first mean: 0.55e-6 signed (k = 1), 0.325e-6 unsigned (k = 2)
      expect(map[s ? 128 : 1]).toBeCloseTo(s ? 0.55e-6 : 0.325e-6, 12);
      if (s) expect(map[0]).toBeCloseTo(-(0.1 + (0.9 * 63.5) / 64), 7);
    },
  );
});

describe('the block-wise quantiser', { tags: ['hand-computed'] }, () => {
  const block = 2048;
  /** Values over eight decades with both signs; block 1 all zeros; a last partial block of 333. */
  function sample(seed: number, signed: boolean): Float32Array {
    const rng = new Rng(seed),
      x = new Float32Array(3 * block + 333);
    for (let i = 0; i < x.length; i++) {
      const mag = 10 ** (-8 * rng.uniform()) * 3.7;
      x[i] = signed && rng.uniform() < 0.5 ? -mag : mag;
    }
    x.fill(0, block, 2 * block);
    return x;
  }

  it.each([true, false])('signed=%s: absmax per block, codes = the nearest map value (float64)', (s) => {
    const map = dynamicMap(s),
      table = codeTable(map),
      x = sample(5, s);
    const { codes, absmax } = quantizeBlockwise(x, table, block);
    expect(absmax.length).toBe(4);
    for (let b = 0; b < 4; b++) {
      const part = x.subarray(b * block, Math.min(x.length, (b + 1) * block));
      const amax = part.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(absmax[b], `block ${b}`).toBe(Math.fround(amax));
    }
    expect(absmax[1]).toBe(0);
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const amax = absmax[Math.floor(i / block)];
      const y = amax > 0 ? Math.fround(x[i] / amax) : 0;
      const c = nearest(map, y);
      if (codes[i] !== c) expect.fail(`element ${i}: code ${codes[i]}, nearest ${c} (y = ${y})`);
      worst = Math.max(worst, Math.abs(map[c] - y));
    }
    // round trip: within half the widest gap of the map (at the top decade), and exact for the zero block
    const back = dequantizeBlockwise(codes, absmax, table, block);
    const halfGap = s ? Math.max(0.9 / 64 / 2, 1 - (0.1 + (0.9 * 63.5) / 64)) : 0.9 / 128 / 2;
    expect(worst).toBeLessThanOrEqual(halfGap + 1e-7);
    for (let i = 0; i < x.length; i++) {
      const amax = absmax[Math.floor(i / block)];
      expect(Math.abs(back[i] - x[i]), `element ${i}`).toBeLessThanOrEqual(halfGap * amax * (1 + 1e-6));
    }
    expect(back.subarray(block, 2 * block).every((v) => v === 0)).toBe(true);
  });

  it("v's table: a positive value never takes the code of 0, 0 still does; elsewhere the nearest value", () => {
    const map = dynamicMap(false),
      table = codeTable(map, { positiveStaysPositive: true });
    const x = sample(6, false);
    x[5] = 1e-12; // far under the smallest positive value of its block (0.325e-6 of the absmax)
    x[6] = 0;
    const { codes, absmax } = quantizeBlockwise(x, table, block);
    expect(codes[5]).toBe(1);
    expect(codes[6]).toBe(0);
    for (let i = 0; i < x.length; i++) {
      const amax = absmax[Math.floor(i / block)];
      const y = amax > 0 ? Math.fround(x[i] / amax) : 0;
      const c = y > 0 ? Math.max(1, nearest(map, y)) : nearest(map, y);
      if (codes[i] !== c) expect.fail(`element ${i}: code ${codes[i]}, expected ${c} (y = ${y})`);
    }
  });

  it('ties go to the lower value; the next f32 above a midpoint to the upper one', () => {
    const map = dynamicMap(true),
      table = codeTable(map);
    let ties = 0;
    for (let k = 0; k < 255; k++) {
      const mid = (map[k] + map[k + 1]) / 2;
      // a block whose absmax is 1 (its last value), so the normalised value is the value itself
      const x = new Float32Array([mid, 1]);
      if (x[0] === mid) {
        ties++;
        expect(quantizeBlockwise(x, table).codes[0], `tie at ${k}`).toBe(k);
      }
      const above = new Float32Array([Math.fround(mid) + ulp32(mid) * 2, 1]);
      if (above[0] > mid && above[0] < map[k + 1]) expect(quantizeBlockwise(above, table).codes[0]).toBe(k + 1);
    }
    expect(ties, 'midpoints exactly representable in f32').toBeGreaterThan(50);
  });
});

/** A 784→128→10 tanh MLP (its first weight is 100 352 values: 8-bit) on fixed random data. */
const mlpConfig = (type: OptimizerSpec['type']): RuleConfig => ({
  rule: 'backprop',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 11,
  optimizer: { type, lr: 1e-3 },
});

async function paramsOf(rule: { params(): Map<string, Tensor> }): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of rule.params()) out.set(k, Float32Array.from((await t.data()) as Float32Array));
  return out;
}

describe('32-bit and 8-bit Adam from the same seed', { tags: ['invariant'] }, () => {
  it('the first step is bit for bit the same; after k steps no weight is more than 0.25·k·lr apart', async () => {
    const rng = new Rng(3);
    const batches = Array.from({ length: 12 }, () => ({
      x: rng.fillUniform(new Float32Array(32 * 784)),
      y: Int32Array.from({ length: 32 }, () => rng.int(10)),
    }));
    const a = createRule(mlpConfig('adam'), wasmRelaxed),
      b = createRule(mlpConfig('adam8bit'), wasmRelaxed);
    const lr = 1e-3;
    for (const [k, batch] of batches.entries()) {
      for (const r of [a, b])
        tidy(() => {
          r.trainStep(
            tensor(batch.x, [32, 1, 28, 28], 'float32', wasmRelaxed),
            tensor(batch.y, [32], 'int32', wasmRelaxed),
          );
        });
      const [pa, pb] = [await paramsOf(a), await paramsOf(b)];
      let worst = 0;
      for (const [name, va] of pa) {
        const vb = pb.get(name)!;
        for (let i = 0; i < va.length; i++) worst = Math.max(worst, Math.abs(va[i] - vb[i]));
      }
      // Step 1 starts from zero state on both: the same f32 operations, so the same bits. Later the 8-bit state
      // differs from the 32-bit one by its rounding (≤ 0.7% of a block's absmax for m, 0.35% for v; a v under
      // ~1.6e-7 of its block's absmax becomes 0), so each step's update, about lr in size, may differ by a
      // fraction of lr. Measured here: 0.32·lr after step 2, 1.11·lr after step 12 (0.09–0.16·k·lr); the bound
      // 0.25·k·lr leaves room for other adapters' rounding and fails if an update goes wrong (a whole lr a step).
      if (k === 0) expect(worst, 'step 1').toBe(0);
      expect(worst, `step ${k + 1}`).toBeLessThanOrEqual(0.25 * (k + 1) * lr);
    }
    a.dispose();
    b.dispose();
  });
});

describe('8-bit optimizer state', () => {
  it('takes ≤ 0.26× the bytes of 32-bit state for a 784×256 weight; small tensors stay 32-bit', {
    tags: ['invariant'],
  }, () => {
    const bytes = (spec: OptimizerSpec, shape: number[]) => {
      const p = tensor(new Float32Array(shape.reduce((x, d) => x * d, 1)), shape, 'float32', wasmRelaxed);
      const g = tensor(new Float32Array(p.size).fill(0.1), shape, 'float32', wasmRelaxed);
      const opt = createOptimizer(spec);
      opt.step(new Map([['w', p]]), { w: g });
      let n = 0;
      for (const t of opt.stateTensors().values()) n += t.size * bytesPerElement[t.dtype];
      opt.dispose();
      p.dispose();
      g.dispose();
      return n;
    };
    const big = [784, 256];
    const r = bytes({ type: 'adam8bit', lr: 1e-3 }, big) / bytes({ type: 'adam', lr: 1e-3 }, big);
    expect(r).toBeLessThanOrEqual(0.26);
    expect(r).toBeCloseTo(0.25 + 1 / 2048 / 1, 4); // n bytes + 4 bytes per 2048 values, per state, against 4n
    const m =
      bytes({ type: 'sgd8bit', lr: 1e-2, momentum: 0.9 }, big) / bytes({ type: 'sgd', lr: 1e-2, momentum: 0.9 }, big);
    expect(m).toBeLessThanOrEqual(0.26);
    expect(bytes({ type: 'adam8bit', lr: 1e-3 }, [256])).toBe(bytes({ type: 'adam', lr: 1e-3 }, [256]));
  });

  it('state moves between 32-bit and 8-bit optimizers: quantised one way, dequantised the other', {
    tags: ['invariant'],
  }, async () => {
    const rng = new Rng(9);
    const n = 5000;
    const p0 = rng.fillUniform(new Float32Array(n), -1, 1);
    const grads = Array.from({ length: 3 }, () => rng.fillUniform(new Float32Array(n), -1, 1));
    const run = (type: OptimizerSpec['type']) => {
      const p = tensor(p0, [n], 'float32', wasmRelaxed);
      const opt = createOptimizer({ type, lr: 1e-2 });
      for (const g of grads) tidy(() => opt.step(new Map([['w', p]]), { w: tensor(g, [n], 'float32', wasmRelaxed) }));
      return { p, opt };
    };
    const full = run('adam'),
      eight = run('adam8bit');
    const saved32 = await full.opt.readSlots!(),
      saved8 = await eight.opt.readSlots!();
    expect(Object.keys(saved8).sort()).toEqual(['w/m.absmax', 'w/m.codes', 'w/v.absmax', 'w/v.codes']);
    expect(saved8['w/m.codes'].data.every((c) => Number.isInteger(c) && c >= 0 && c < 256)).toBe(true);

    // 32-bit state into an 8-bit optimizer: its codes are the block quantiser's of the saved moments
    const into8 = createOptimizer({ type: 'adam8bit', lr: 1e-2 });
    into8.restore(3, saved32, new Map([['w', full.p]]));
    const q = await into8.readSlots!();
    const ref = quantizeBlockwise(saved32['w/m'].data, codeTable(dynamicMap(true)));
    expect(Array.from(q['w/m.codes'].data)).toEqual(Array.from(ref.codes));
    expect(Array.from(q['w/m.absmax'].data)).toEqual(Array.from(ref.absmax));
    // 8-bit state into a 32-bit optimizer: the dequantised moments
    const into32 = createOptimizer({ type: 'adam', lr: 1e-2 });
    into32.restore(3, saved8, new Map([['w', eight.p]]));
    const v = (await into32.readSlots!())['w/v'].data;
    const refV = dequantizeBlockwise(
      Uint8Array.from(saved8['w/v.codes'].data),
      saved8['w/v.absmax'].data,
      codeTable(dynamicMap(false), { positiveStaysPositive: true }),
    );
    expect(Array.from(v)).toEqual(Array.from(refV));
    // and the 8-bit moments are close to the 32-bit ones (the same gradients, a different rounding each step)
    const m32 = saved32['w/m'].data,
      m8 = (await into32.readSlots!())['w/m'].data;
    const amax = m32.reduce((x, y) => Math.max(x, Math.abs(y)), 0);
    for (let i = 0; i < n; i++) expect(Math.abs(m8[i] - m32[i])).toBeLessThanOrEqual(0.03 * amax);
    for (const o of [full, eight]) {
      o.opt.dispose();
      o.p.dispose();
    }
    into8.dispose();
    into32.dispose();
  });

  it('a gradient that stops where it was tiny moves no weight by more than lr (v is not rounded to 0)', {
    tags: ['invariant'],
  }, () => {
    // step 1: one large gradient and 4 999 tiny ones (v = 1e-13 against the block's 1e-3: under the map's smallest
    // positive value); step 2: no gradient. Rounded to 0, v would leave m̂/ε, a step of ~500·lr.
    const n = 5000,
      lr = 1e-3;
    const p = tensor(new Float32Array(n), [n], 'float32', wasmRelaxed);
    const opt = createOptimizer({ type: 'adam8bit', lr });
    const g1 = new Float32Array(n).fill(1e-5);
    g1[0] = 1;
    for (const g of [g1, new Float32Array(n)]) {
      const before = p.dataSync().slice();
      tidy(() => opt.step(new Map([['w', p]]), { w: tensor(g, [n], 'float32', wasmRelaxed) }));
      const after = p.dataSync();
      for (let i = 0; i < n; i++) expect(Math.abs(after[i] - before[i]), `element ${i}`).toBeLessThanOrEqual(1.01 * lr);
    }
    opt.dispose();
    p.dispose();
  });

  it('refuses an unknown type, sgd8bit without momentum, a bad block size, and slots without their absmax', {
    tags: ['behaviour'],
  }, () => {
    expect(() => createOptimizer({ type: 'adam4bit' as 'adam', lr: 1e-3 })).toThrow(
      /unknown optimizer "adam4bit".*adam8bit/s,
    );
    expect(() => createOptimizer({ type: 'sgd8bit', lr: 1e-2 })).toThrow(/has none/);
    expect(() => createOptimizer({ type: 'adam8bit', lr: 1e-3, blockSize: 30 })).toThrow(/multiple of 4/);
    const p = tensor(new Float32Array(5000), [5000], 'float32', wasmRelaxed);
    const opt = createOptimizer({ type: 'adam8bit', lr: 1e-3 });
    expect(() => opt.restore(1, { 'w/m.codes': { data: new Float32Array(5000) } }, new Map([['w', p]]))).toThrow(
      /has no absmax/,
    );
    expect(() =>
      opt.restore(
        1,
        { 'w/m.codes': { data: new Float32Array(5000) }, 'w/m.absmax': { data: new Float32Array(2) } },
        new Map([['w', p]]),
      ),
    ).toThrow(/another block size/);
    opt.dispose();
    p.dispose();
  });
});
