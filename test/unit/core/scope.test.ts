import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { nn, Rng, tensor, tidy } from '../../../src/index.js';
import { js, wasmRelaxed, wasmSimd } from '../helpers.js';

describe('deterministic freeing', () => {
  it('tidy frees intermediates and keeps what it returns', { tags: ['invariant'] }, () => {
    const before = lh.liveTensors();
    const x = tensor([1, 2, 3], [3], 'float32', js);
    const y = tidy(() => lh.mul(lh.add(x, 1), 2));
    expect(y.toArray()).toEqual([4, 6, 8]);
    expect(lh.liveTensors()).toBe(before + 2);
    x.dispose();
    y.dispose();
    expect(lh.liveTensors()).toBe(before);
  });

  it('a disposed tensor is a typed error, not garbage', { tags: ['behaviour'] }, () => {
    const x = tensor([1], [1], 'float32', js);
    x.dispose();
    expect(() => lh.relu(x)).toThrow(expect.objectContaining({ code: 'TENSOR_DISPOSED' }));
  });

  it('tidy refuses an async function instead of leaking what it makes after an await', { tags: ['behaviour'] }, () => {
    expect(() => tidy(async () => 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('reshape shares storage until the last view is disposed', { tags: ['invariant'] }, () => {
    const x = tensor([1, 2, 3, 4], [2, 2], 'float32', wasmSimd);
    const before = wasmSimd.memory().allocations;
    const v = x.reshape([4]);
    x.dispose();
    expect(v.toArray()).toEqual([1, 2, 3, 4]);
    expect(wasmSimd.memory().allocations).toBe(before);
    v.dispose();
    expect(wasmSimd.memory().allocations).toBe(before - 1);
  });

  // One backend: wasm-relaxed. Its tensors live in a linear-memory heap with its own free lists (src/backend/wasm/
  // heap.ts) that grows and never shrinks, so a leak or a missed reuse shows as bytesReserved growing; the js
  // backend's typed arrays are garbage-collected and its bytesReserved is just bytesInUse, so a second 10 000-step
  // loop there repeated the liveTensors check (backend-independent: tidy/dispose live in core) at another 7 s.
  it('a 10 000-step training loop does not grow memory (wasm-relaxed)', { tags: ['invariant'] }, () => {
    const backend = wasmRelaxed;
    const model = new nn.Sequential(
      {
        input: [12],
        layers: [
          { type: 'dense', units: 16 },
          { type: 'batchnorm' },
          { type: 'relu' },
          { type: 'dropout', rate: 0.1 },
          { type: 'dense', units: 4 },
        ],
      },
      { backend, rng: new Rng(3) },
    );
    const rng = new Rng(4);
    const x = lh.randomNormal([8, 12], rng, 0, 1, backend);
    const labels = tensor(Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]), [8], 'int32', backend);
    const params = model.namedParams();
    const step = () =>
      tidy(() => {
        const { y, caches } = model.forward(x, { training: true, rng });
        const loss = lh.crossEntropy(y, labels);
        const { grads } = model.backwardWithCache(lh.crossEntropyGrad(y, labels), caches);
        for (const [name, p] of params) lh.assign(p, lh.sub(p, lh.mul(grads[name], 0.05)));
        return loss.dataSync()[0];
      });
    const first = step();
    for (let i = 0; i < 10; i++) step();
    const live = lh.liveTensors(),
      mem = backend.memory();
    let last = first;
    for (let i = 0; i < 10_000; i++) last = step();
    expect(lh.liveTensors()).toBe(live);
    expect(backend.memory().bytesInUse).toBe(mem.bytesInUse);
    expect(backend.memory().bytesReserved).toBe(mem.bytesReserved);
    expect(last).toBeLessThan(first * 0.5); // it really trained
    lh.dispose([x, labels]);
  });
});
