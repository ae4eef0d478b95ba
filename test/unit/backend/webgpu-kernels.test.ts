/** Every WGSL kernel against the js reference on the same cases as the wasm kernels (Node, the `webgpu` package). */
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { tensor } from '../../../src/index.js';
import { gpu } from '../webgpu-backend.js';
import { agreeWithJs, cases } from './kernel-cases.js';

describe(`webgpu (${gpu.capabilities().adapter}) agrees with the js reference`, { tags: ['js-oracle'] }, () => {
  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_n, c, i) => agreeWithJs(gpu, c, 1000 + i));
});

describe('both matmul kernels agree with the js reference', { tags: ['js-oracle'] }, () => {
  const matmuls = cases.filter((c) => c.name.startsWith('matmul'));
  for (const variant of ['tiled', 'blocked'] as const) {
    it.each(matmuls.map((c, i) => [c.name, c, i] as const))(`${variant}: %s`, async (_n, c, i) => {
      const before = gpu.matMulVariant;
      gpu.matMulVariant = variant;
      try {
        await agreeWithJs(gpu, c, 2000 + i);
      } finally {
        gpu.matMulVariant = before;
      }
    });
  }
});

describe('the webgpu backend', () => {
  it('reads back only asynchronously, and says how', { tags: ['behaviour'] }, async () => {
    const t = tensor([1, 2, 3], [3], 'float32', gpu);
    expect(() => t.dataSync()).toThrow(/await tensor.data\(\)/);
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    t.dispose();
  });

  it('reuses pooled buffers: a loop of steps stops allocating after the first', { tags: ['invariant'] }, async () => {
    const step = () =>
      lh.tidy(() => {
        lh.sum(
          lh.tanh(
            lh.matmul(
              tensor(new Float32Array(64 * 32).fill(0.1), [64, 32], 'float32', gpu),
              tensor(new Float32Array(32 * 16).fill(0.2), [32, 16], 'float32', gpu),
            ),
          ),
        );
      });
    step();
    await gpu.sync();
    const reserved = gpu.memory().bytesReserved;
    for (let k = 0; k < 20; k++) step();
    await gpu.sync();
    expect(gpu.memory().bytesReserved).toBe(reserved);
  });

  it('chose its matmul kernel by measuring both on this adapter, and kept the faster', { tags: ['invariant'] }, () => {
    const choice = gpu.matMulChoice!;
    expect(choice, 'tuneMatMul ran at creation').not.toBeNull();
    for (const v of ['tiled', 'blocked'] as const) {
      expect(Number.isFinite(choice[v]), `${v} measured`).toBe(true);
      expect(choice[v], `${v} measured`).toBeGreaterThan(0);
    }
    expect(choice.chosen).toBe(choice.blocked < choice.tiled ? 'blocked' : 'tiled');
    expect(gpu.matMulVariant).toBe(choice.chosen);
    expect(gpu.capabilities().adapter).toBeTruthy();
  });

  it('measures once per adapter: a second backend on it reuses the first measurement', {
    tags: ['invariant'],
  }, async () => {
    const again = (await lh.createBackend('webgpu')) as typeof gpu;
    try {
      expect(again.matMulChoice).toBe(gpu.matMulChoice);
      expect(again.matMulVariant).toBe(gpu.matMulChoice!.chosen);
    } finally {
      again.destroy();
    }
  });
});
