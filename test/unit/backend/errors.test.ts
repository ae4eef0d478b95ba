// @module-tag behaviour
import { afterEach, describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { nn, Rng, tensor, LayerhiveError } from '../../../src/index.js';
import { registerKernel } from '../../../src/backend/registry.js';
import { registerBackend } from '../../../src/backend/select.js';
import { js, wasmSimd } from '../helpers.js';

const code = (c: string) => expect.objectContaining({ code: c });

describe('typed errors that say what to do', () => {
  afterEach(() => lh.setCheckNumerics(false));

  it('a shape mismatch names both shapes', () => {
    const a = lh.zeros([2, 3], 'float32', js),
      b = lh.zeros([4, 5], 'float32', js);
    let err: unknown;
    try {
      lh.matmul(a, b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LayerhiveError);
    expect((err as LayerhiveError).code).toBe('SHAPE_MISMATCH');
    expect((err as Error).message).toContain('[2,3]');
    expect((err as Error).message).toContain('[4,5]');
    expect(() => lh.add(lh.zeros([2, 3], 'float32', js), lh.zeros([4], 'float32', js))).toThrow(code('SHAPE_MISMATCH'));
    expect(() => lh.conv2d(lh.zeros([1, 2, 5, 5], 'float32', js), lh.zeros([3, 1, 3, 3], 'float32', js))).toThrow(
      code('SHAPE_MISMATCH'),
    );
    // groups: they must divide both channel counts, and the weight holds C / groups channels
    const conv = (x: number[], w: number[], o: lh.Conv2DOptions) =>
      lh.conv2d(lh.zeros(x, 'float32', js), lh.zeros(w, 'float32', js), o);
    expect(() => conv([1, 6, 5, 5], [4, 2, 3, 3], { groups: 3 })).toThrow(/3 groups do not divide the 6 input and 4/);
    expect(() => conv([1, 6, 5, 5], [6, 3, 3, 3], { groups: 3 })).toThrow(/6 channels in 3 groups .* expects 9/);
    expect(() => conv([1, 6, 5, 5], [6, 2, 3, 3], { groups: 0 })).toThrow(code('INVALID_ARGUMENT'));
    // a dilated kernel spans d·(k − 1) + 1 pixels: 3 taps at dilation 3 span 7 > 5
    expect(() => conv([1, 1, 5, 5], [1, 1, 3, 3], { dilation: 3 })).toThrow(/dilation 3,3\) does not fit/);
    expect(() => conv([1, 1, 5, 5], [1, 1, 3, 3], { pad: [1, 1, 1] as unknown as [number, number] })).toThrow(
      code('INVALID_ARGUMENT'),
    );
    expect(conv([1, 1, 5, 5], [1, 1, 3, 3], { dilation: 3, pad: [1, 0, 1, 2] }).shape).toEqual([1, 1, 1, 1]);
  });

  it('a model input of the wrong shape says which shape it wants', () => {
    const m = new nn.Sequential(
      { input: [1, 28, 28], layers: [{ type: 'flatten' }, { type: 'dense', units: 10 }] },
      { backend: js, rng: new Rng(0) },
    );
    expect(() => m.predict(lh.zeros([1, 28, 28], 'float32', js))).toThrow(/does not match model input \[N,1,28,28\]/);
  });

  it('a NaN in the model input is NON_FINITE, and numerics checking catches a NaN-producing kernel', () => {
    const m = new nn.Sequential(
      { input: [2], layers: [{ type: 'dense', units: 1 }] },
      { backend: wasmSimd, rng: new Rng(0) },
    );
    expect(() => m.predict(tensor([1, NaN], [1, 2], 'float32', wasmSimd))).toThrow(code('NON_FINITE'));
    const neg = tensor([1, -1], [2], 'float32', js);
    expect(lh.log(neg).toArray()[1]).toBeNaN(); // off by default: IEEE semantics
    lh.setCheckNumerics(true);
    expect(() => lh.log(neg)).toThrow(/kernel 'Unary' produced NaN at flat index 1/);
  });

  it('an unknown kernel on a backend names the kernel and where it exists', () => {
    registerKernel({ kernelName: 'Gather', backendName: 'only-here', kernelFunc: () => [] });
    registerBackend('lonely', async () => ({ ...js, name: 'lonely', flavour: 'lonely' }) as unknown as lh.Backend);
    return lh.createBackend('lonely').then((b) => {
      const t = lh.tensor([1], [1], 'float32', js);
      const alien = new lh.Tensor(b, t.storage, [1]);
      expect(() => lh.relu(alien)).toThrow(
        /kernel 'Unary' is not registered for backend 'lonely'.*it exists on: js, wasm/,
      );
    });
  });

  it('mixing backends is a typed error', () => {
    expect(() => lh.add(lh.ones([2], 'float32', js), lh.ones([2], 'float32', wasmSimd))).toThrow(
      code('BACKEND_MISMATCH'),
    );
  });

  it('bad labels, indices, spec and arguments are caught before any work', () => {
    const logits = lh.zeros([2, 3], 'float32', js);
    expect(() => lh.crossEntropy(logits, tensor(Int32Array.from([0, 3]), [2], 'int32', js))).toThrow(
      /label 3 at row 1 is outside \[0, 3\)/,
    );
    expect(() => lh.gather(lh.zeros([4, 2], 'float32', js), tensor(Int32Array.from([5]), [1], 'int32', js))).toThrow(
      code('INVALID_ARGUMENT'),
    );
    expect(
      () =>
        new nn.Sequential(
          { input: [3], layers: [{ type: 'dense', units: 2 }, { type: 'warp' } as never] },
          { backend: js, rng: new Rng(0) },
        ),
    ).toThrow(/layer 1 \(warp\): unknown layer type/);
    expect(() => lh.dropoutMask([2], 1.5, new Rng(0), js)).toThrow(code('INVALID_ARGUMENT'));
    expect(() => tensor([1, 2, 3], [2, 2], 'float32', js)).toThrow(code('SHAPE_MISMATCH'));
  });
});

describe('backend selection by priority with fallback', () => {
  it('skips a backend that fails to start and records why', async () => {
    registerBackend('broken', async () => {
      throw new Error('no adapter here');
    });
    lh.setBackendPriority(['broken', 'wasm', 'js']);
    const b = await lh.ready();
    expect(b.name).toBe('wasm');
    expect(lh.backendFailures().get('broken')).toBe('no adapter here');
    expect(lh.getBackend()).toBe(b);
  });

  it('an unregistered backend is BACKEND_UNAVAILABLE with the choices', async () => {
    await expect(lh.createBackend('cuda')).rejects.toThrow(/choose one of: js, wasm/);
  });
});

describe('models as data', () => {
  it('setParams copies weights between models and rejects unknown names and wrong sizes', () => {
    const spec: nn.ModelSpec = {
      input: [3],
      layers: [{ type: 'dense', units: 2 }, { type: 'relu' }, { type: 'dense', units: 2 }],
    };
    const a = new nn.Sequential(spec, { backend: js, rng: new Rng(1) });
    const b = new nn.Sequential(spec, { backend: wasmSimd, rng: new Rng(2) });
    const x = [tensor([1, 2, 3], [1, 3], 'float32', js), tensor([1, 2, 3], [1, 3], 'float32', wasmSimd)];
    expect(a.predict(x[0]).toArray()).not.toEqual(b.predict(x[1]).toArray());
    b.setParams(Object.fromEntries([...a.namedParams()].map(([k, t]) => [k, t.dataSync()])));
    const [ya, yb] = [a.predict(x[0]).toArray(), b.predict(x[1]).toArray()];
    yb.forEach((v, i) => {
      expect(v).toBeCloseTo(ya[i], 5);
    });
    expect(() => b.setParams({ '7.weight': [1] })).toThrow(
      /no parameter '7.weight'.*known parameters: 0.weight, 0.bias, 2.weight, 2.bias/,
    );
    expect(() => b.setParams({ '0.weight': [1, 2] })).toThrow(code('SHAPE_MISMATCH'));
  });
});
