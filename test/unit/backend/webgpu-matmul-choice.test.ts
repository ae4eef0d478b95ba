/**
 * The README's WebGPU claim "matmul in two kinds — 16×16 shared-memory tiles for real GPUs and a 4×4 register-blocked
 * kernel for CPU adapters, the faster one measured once per adapter" (issue 14): both kinds compute what the js
 * reference computes, `tuneMatMul` runs both on the adapter, and the kind it keeps is the one its measurement found
 * faster (checked by making each kind in turn look an hour slower to the clock tuneMatMul reads: the choice must
 * follow).
 *
 * tuneMatMul caches its choice per adapter (`adapterName|fallbackAdapter`) for the life of the process, so a fresh
 * measurement needs a backend under a name no other backend has used: the tests below rename fresh backends.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as lh from '../../../src/index.js';
import { Rng, tensor, WebGpuBackend } from '../../../src/index.js';
import type { Params } from '../../../src/backend/webgpu/webgpu-backend.js';
import { tuneMatMul } from '../../../src/backend/webgpu/index.js';
import { matMulVariants, type MatMulVariant } from '../../../src/backend/webgpu/kernels/matmul.js';
import { expectClose, js } from '../helpers.js';
import { gpu } from '../webgpu-backend.js';

const variants: MatMulVariant[] = ['tiled', 'blocked'];

afterEach(() => {
  vi.restoreAllMocks();
});

let fresh = 0;
/** A new WebGPU backend (its own device) under an adapter name tuneMatMul has not measured yet. */
async function unmeasuredBackend(): Promise<WebGpuBackend> {
  const b = await WebGpuBackend.create();
  Object.defineProperty(b, 'adapterName', { value: `${b.adapterName} (unmeasured #${++fresh})` });
  return b;
}

/** One dispatch as compared here: its WGSL and the words of its uniforms (the shapes travel there). */
const dispatchKey = (code: string, params: Params | null) =>
  `${code}\n${params ? Array.from(new Uint32Array(params.bytes())).join(',') : 'no params'}`;

/** What matmulGpu records for [1, M, K] · [1, K, N] with `variant` (as tuneMatMul's shapes are). */
function dispatchFor(variant: MatMulVariant, [M, K, N]: [number, number, number]): string {
  const d = matMulVariants[variant]({ B: 1, M, N, K, ba: 1, bb: 1, ar: M, ac: K, br: K, bc: N, ta: false, tb: false });
  return dispatchKey(d.code, d.params);
}

describe('webgpu: both matmul kernels agree with the js reference', { tags: ['js-oracle'] }, () => {
  // sizes that fill neither a 16×16 tile nor a 4×4 block, batches, a broadcast batch and both transposes
  const cases: { name: string; a: number[]; b: number[]; transposeA?: boolean; transposeB?: boolean }[] = [
    { name: '[3, 37, 70] · [3, 70, 19]', a: [3, 37, 70], b: [3, 70, 19] },
    { name: 'ᵀ[2, 70, 37] · [2, 70, 21]', a: [2, 70, 37], b: [2, 70, 21], transposeA: true },
    { name: '[4, 33, 65] · ᵀ[1, 18, 65] (broadcast)', a: [4, 33, 65], b: [1, 18, 65], transposeB: true },
  ];
  for (const variant of variants) {
    it.each(cases.map((c, i) => [c.name, c, i] as const))(`${variant}: %s`, async (_n, c, i) => {
      const rng = new Rng(300 + i);
      const fill = (shape: number[]) => rng.fillUniform(new Float32Array(shape.reduce((p, d) => p * d, 1)), -1, 1);
      const a = fill(c.a),
        b = fill(c.b);
      const options = { transposeA: c.transposeA, transposeB: c.transposeB };
      const expected = lh.tidy(() => lh.matmul(tensor(a, c.a, 'float32', js), tensor(b, c.b, 'float32', js), options));
      const before = gpu.matMulVariant;
      gpu.matMulVariant = variant;
      try {
        const actual = lh.tidy(() =>
          lh.matmul(tensor(a, c.a, 'float32', gpu), tensor(b, c.b, 'float32', gpu), options),
        );
        expect(actual.shape).toEqual(expected.shape);
        // K ≤ 70 products of values in [-1, 1], summed in another order: float32 rounding is far below 1e-5
        expectClose(await actual.data(), await expected.data(), 1e-5, 1e-5, `${variant} ${c.name}`);
        actual.dispose();
      } finally {
        gpu.matMulVariant = before;
        expected.dispose();
      }
    });
  }
});

describe('webgpu: the matmul kernel is chosen by measuring both on the adapter', { tags: ['invariant'] }, () => {
  it('the shared backend measured both kinds (finite, positive times) and runs the faster', () => {
    const choice = gpu.matMulChoice;
    expect(choice, 'tuneMatMul ran when the backend was created').not.toBeNull();
    for (const v of variants) {
      expect(Number.isFinite(choice![v]), `${v} time`).toBe(true);
      expect(choice![v], `${v} time`).toBeGreaterThan(0);
    }
    expect(choice!.chosen).toBe(choice!.blocked < choice!.tiled ? 'blocked' : 'tiled');
    expect(gpu.matMulVariant).toBe(choice!.chosen);
  });

  it.each(variants)(
    'a fresh measurement runs both kernels on both its shapes; with %s slowed down on purpose it keeps the other',
    async (slow) => {
      const b = await unmeasuredBackend();
      try {
        const ran: string[] = [];
        const run = b.run.bind(b);
        vi.spyOn(b, 'run').mockImplementation((code, inputs, outputs, params, groups) => {
          ran.push(dispatchKey(code, params));
          run(code, inputs, outputs, params, groups);
        });
        // the slowing is virtual: the clock tuneMatMul reads jumps by an hour whenever the slowed kernel's work is
        // waited for, so no timing noise on a shared machine can undo it and the test waits for nothing extra
        const hourMs = 3_600_000;
        let jumped = 0;
        const now = performance.now.bind(performance),
          sync = b.sync.bind(b);
        vi.spyOn(performance, 'now').mockImplementation(() => now() + jumped);
        vi.spyOn(b, 'sync').mockImplementation(async () => {
          const variantNow = b.matMulVariant;
          await sync();
          if (variantNow === slow) jumped += hourMs;
        });
        const { variant, ms } = await tuneMatMul(b);
        vi.mocked(performance.now).mockRestore();
        // the shapes tuneMatMul's comment names: 256³ and the MLP's 64×784×512
        for (const v of variants) {
          for (const shape of [
            [256, 256, 256],
            [64, 784, 512],
          ] as [number, number, number][]) {
            const times = ran.filter((r) => r === dispatchFor(v, shape)).length;
            expect(times, `${v} ran on ${shape.join('×')}`).toBeGreaterThanOrEqual(1);
          }
          expect(Number.isFinite(ms[v]) && ms[v] > 0, `${v}: ${ms[v]} ms`).toBe(true);
        }
        expect(ms[slow], `${slow} was measured with its delay`).toBeGreaterThanOrEqual(hourMs);
        expect(ms[slow === 'tiled' ? 'blocked' : 'tiled'], 'the other without it').toBeLessThan(hourMs);
        expect(variant).toBe(slow === 'tiled' ? 'blocked' : 'tiled');
        expect(b.matMulChoice).toEqual({ ...ms, chosen: variant });
        expect(b.matMulVariant).toBe(variant);
      } finally {
        b.destroy();
      }
    },
  );
});
