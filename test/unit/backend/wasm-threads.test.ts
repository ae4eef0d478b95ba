/**
 * The wasm backend with intra-op threads (`createBackend('wasm', { threads })`): GEMM (MatMul, and Conv2D and its
 * gradients through their GEMMs) and the large elementwise maps split over 1, 2 and 3 threads, checked against the
 * js oracle on odd shapes, bit-identical to one thread (fixed partitions), and what a user sees when a helper dies or
 * stalls: a typed WORKER_FAILED, no hang, and one thread from then on.
 */
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { LayerhiveError } from '../../../src/index.js';
import type { WasmBackend } from '../../../src/backend/wasm/wasm-backend.js';
import type { KernelExportName, Team } from '../../../src/backend/wasm/team.js';
import { agreeWithJs, caseInputs, type Case } from './kernel-cases.js';

const threadCounts = [1, 2, 3] as const;
const start = async (threads: number, simd: 'relaxed' | 'plain' = 'relaxed') =>
  (await lh.createBackend('wasm', { threads, simd })) as WasmBackend;
const backends = new Map<number, WasmBackend>();
for (const n of threadCounts) backends.set(n, await start(n));
/** The plain-SIMD shared build, on the same cases with 2 threads. */
const plain2 = await start(2, 'plain');
const plain1 = await start(1, 'plain');
afterAll(() => {
  for (const b of [...backends.values(), plain2, plain1]) b.destroy();
});

const team = (b: WasmBackend): Team | null => b.threadTeamForTests();

/**
 * A case, whether it is large enough to split (so the invariant test can check that it did), and which kernels other
 * than the GEMM must have split.
 */
type ThreadCase = Case & { splits: boolean; also?: KernelExportName[] };
const cases: ThreadCase[] = [];

// MatMul: too small to split, split by rows of M (4·M ≥ N), by columns of N (4·M < N), transposed, batched
const mm: [number, number, number, boolean][] = [
  [1, 1, 1, false],
  [7, 13, 5, false],
  [129, 67, 33, false],
  [129, 267, 33, true],
  [5, 421, 517, true],
  [64, 784, 37, true],
  [13, 207, 411, true],
];
for (const [M, K, N, splits] of mm)
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])
    cases.push({
      name: `matmul ${M}x${K}x${N} tA=${ta} tB=${tb}`,
      rtol: 1e-4,
      atol: 2e-6 * K,
      splits,
      run: (on) => lh.matmul(on(ta ? [K, M] : [M, K]), on(tb ? [N, K] : [K, N]), { transposeA: ta, transposeB: tb }),
    });
cases.push({
  name: 'matmul batched 3x[71x229]·[229x97]',
  rtol: 1e-4,
  atol: 5e-4,
  splits: true,
  run: (on) => lh.matmul(on([3, 71, 229]), on([3, 229, 97])),
});

// Conv2D through im2col + GEMM (odd sizes, grouped and strided), Winograd (its 16 GEMMs split; the transforms stay
// on the caller), depthwise (one thread), and both gradients
type ConvCase = {
  x: number[];
  w: number[];
  o: lh.Conv2DOptions;
  splits: boolean;
  /** kernels besides the GEMM that split: forward, input gradient, filter gradient */
  also?: [KernelExportName[], KernelExportName[], KernelExportName[]];
};
const im2col: ConvCase['also'] = [['im2col'], ['col2im'], ['im2col']];
const convs: ConvCase[] = [
  { x: [5, 6, 19, 17], w: [11, 6, 3, 3], o: { pad: 1, dilation: 2 }, splits: true, also: im2col },
  { x: [8, 12, 23, 21], w: [18, 4, 5, 5], o: { stride: 2, pad: 2, groups: 3 }, splits: true, also: im2col },
  // Winograd: 21 output columns are 11 tiles a row, so each image's last group of four reaches a column past it
  {
    x: [9, 16, 23, 21],
    w: [24, 16, 3, 3],
    o: { pad: 1 },
    splits: true,
    also: [['winoInput', 'winoOutput'], ['winoInput', 'winoOutput'], ['im2col']],
  },
  { x: [3, 5, 17, 15], w: [7, 5, 3, 3], o: { pad: 1 }, splits: false },
  // depthwise: its own kernels, in one thread
  { x: [2, 9, 31, 29], w: [9, 1, 3, 3], o: { pad: 1, groups: 9 }, splits: false },
];
for (const c of convs) {
  const y = lh.tidy(() =>
    lh.conv2d(lh.zeros(c.x, 'float32', backends.get(1)), lh.zeros(c.w, 'float32', backends.get(1)), c.o),
  );
  const dy = [...y.shape];
  y.dispose();
  const atol = 3e-6 * c.w[1] * c.w[2] * c.w[3];
  const name = `${c.x}*${c.w} ${JSON.stringify(c.o)}`;
  cases.push(
    {
      name: `conv2d ${name}`,
      rtol: 1e-4,
      atol,
      splits: c.splits,
      also: c.also?.[0],
      run: (on) => lh.conv2d(on(c.x), on(c.w), c.o),
    },
    {
      name: `conv2dBackpropInput ${name}`,
      rtol: 1e-4,
      atol: 3e-6 * c.w[0] * c.w[2] * c.w[3],
      splits: c.splits,
      also: c.also?.[1],
      run: (on) => lh.conv2dBackpropInput(on(dy), on(c.w), c.x, c.o),
    },
    {
      name: `conv2dBackpropFilter ${name}`,
      rtol: 1e-4,
      atol: 3e-6 * c.x[0] * c.x[2] * c.x[3],
      splits: c.splits,
      also: c.also?.[2],
      run: (on) => lh.conv2dBackpropFilter(on(c.x), on(dy), c.w, c.o),
    },
  );
}

// elementwise maps from 64 Ki elements on: unary, its gradient, and every SIMD broadcast pattern of Binary
const big = [3, 70001];
const small = [1, 65535];
for (const op of ['relu', 'exp', 'tanh', 'gelu'] as const) {
  const range = op === 'exp' ? 10 : 6;
  cases.push(
    {
      name: `${op} ${big}`,
      rtol: 3e-6,
      atol: 1e-7,
      splits: true,
      run: (on) => lh.unary(op, on(big, -range, range)),
    },
    {
      name: `${op} grad ${big}`,
      // 1 − y² where tanh saturates: an ulp of y (wasm's tanh vs js's) is ~1e-7 absolute, as in kernel-cases
      rtol: 6e-6,
      atol: 3e-7,
      splits: true,
      run: (on) => {
        const x = on(big, -range, range);
        return lh.unaryGrad(op, on(big), lh.unaryGradUses[op] === 'x' ? x : lh.unary(op, x));
      },
    },
  );
}
cases.push(
  {
    name: `exp ${small} (below the split size)`,
    rtol: 3e-6,
    atol: 1e-7,
    splits: false,
    run: (on) => lh.exp(on(small)),
  },
  { name: `add ${big}`, rtol: 0, atol: 0, splits: true, run: (on) => lh.add(on(big), on(big)) },
  { name: `div ${big}`, rtol: 1e-6, atol: 0, splits: true, run: (on) => lh.div(on(big), on(big, 0.5, 2)) },
  { name: `mul ${big} by a scalar`, rtol: 0, atol: 0, splits: true, run: (on) => lh.mul(on(big), on([1])) },
  { name: `scalar − ${big}`, rtol: 0, atol: 0, splits: true, run: (on) => lh.sub(on([]), on(big)) },
  {
    name: 'bias row [1001, 131] + [131]',
    rtol: 0,
    atol: 0,
    splits: true,
    run: (on) => lh.add(on([1001, 131]), on([131])),
  },
  {
    name: 'channel bias [3, 37, 29, 31] · [1, 37, 1, 1]',
    rtol: 0,
    atol: 0,
    splits: true,
    run: (on) => lh.mul(on([3, 37, 29, 31]), on([1, 37, 1, 1])),
  },
  {
    name: 'channel bias, one image [1, 77, 41, 43] − [77, 1, 1]',
    rtol: 0,
    atol: 0,
    splits: true,
    run: (on) => lh.sub(on([1, 77, 41, 43]), on([77, 1, 1])),
  },
);
// pooling over ranges of planes, row reductions and softmax over ranges of rows, from 64 Ki elements read
const planes = [3, 37, 31, 29]; // 99 789 elements, odd sizes
for (const [kind, p] of [
  ['max', { kernel: 2 }], // the 2×2 SIMD path
  ['max', { kernel: 3, stride: 2, pad: 1 }],
  ['avg', { kernel: 3, stride: 2, pad: [1, 0, 2, 1] as [number, number, number, number], countPad: true }],
] as const) {
  const fwd = kind === 'max' ? lh.maxPool2d : lh.avgPool2d,
    grad = kind === 'max' ? lh.maxPool2dGrad : lh.avgPool2dGrad;
  const fn = kind === 'max' ? 'maxPool' : 'avgPool';
  cases.push(
    {
      name: `${fn} ${JSON.stringify(p)} on ${planes}`,
      rtol: 1e-6,
      atol: 1e-6,
      splits: true,
      also: [fn],
      run: (on) => fwd(on(planes), p),
    },
    {
      name: `${fn}Grad ${JSON.stringify(p)} on ${planes}`,
      rtol: 1e-5,
      atol: 1e-6,
      splits: true,
      also: [`${fn}Grad`],
      run: (on) => {
        const x = on(planes);
        return grad(on([...fwd(x, p).shape]), x, p);
      },
    },
  );
}
const rows = [1031, 67]; // 69 077 elements
cases.push(
  {
    name: `maxPool on [1, 2, 31, 29] (below the split size)`,
    rtol: 0,
    atol: 0,
    splits: false,
    run: (on) => lh.maxPool2d(on([1, 2, 31, 29]), { kernel: 2 }),
  },
  {
    name: `sum of rows ${rows}`,
    rtol: 1e-6,
    atol: 1e-5,
    splits: true,
    also: ['sumRows'],
    run: (on) => lh.sum(on(rows), [1]),
  },
  {
    name: `max of rows ${rows}`,
    rtol: 0,
    atol: 0,
    splits: true,
    also: ['maxRows'],
    run: (on) => lh.max(on(rows), [1]),
  },
  {
    name: `softmax ${rows}`,
    rtol: 1e-5,
    atol: 1e-7,
    splits: true,
    also: ['softmaxRows'],
    run: (on) => lh.softmax(on(rows, -8, 8)),
  },
  {
    name: `logSoftmax ${rows}`,
    rtol: 1e-5,
    atol: 1e-6,
    splits: true,
    also: ['logSoftmaxRows'],
    run: (on) => lh.logSoftmax(on(rows, -8, 8)),
  },
);
const seeds = new Map(cases.map((c, i) => [c, 7000 + i]));

describe.each(threadCounts.map((n) => [n]))(
  '%i thread(s) agree with the js reference',
  { tags: ['js-oracle'] },
  (n) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => agreeWithJs(backends.get(n)!, c, seeds.get(c)!));
  },
);

describe('the plain-SIMD shared build with 2 threads agrees with the js reference', { tags: ['js-oracle'] }, () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => agreeWithJs(plain2, c, seeds.get(c)!));
});

/** The outputs of `c` on `b` as plain arrays, how many calls it split over `b`'s team, and which exports split. */
function outputs(b: WasmBackend, c: Case, seed: number) {
  const t = team(b);
  const before = t?.runs ?? 0,
    was = new Map(t?.runsOf);
  const data = lh.tidy(() => {
    const r = c.run(caseInputs(b, seed), b);
    return (Array.isArray(r) ? r : [r]).map((x) => Array.from(x.dataSync()));
  });
  const fns = [...(t?.runsOf ?? [])].filter(([fn, n]) => n > (was.get(fn) ?? 0)).map(([fn]) => fn);
  return { data, splits: (t?.runs ?? 0) - before, fns };
}

describe('a fixed partition: every thread count gives one thread’s bits', { tags: ['invariant'] }, () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c: ThreadCase) => {
    const seed = seeds.get(c)!;
    const one = outputs(backends.get(1)!, c, seed);
    expect(one.splits).toBe(0);
    for (const n of [2, 3]) {
      const many = outputs(backends.get(n)!, c, seed);
      expect(many.splits > 0, `${n} threads split it`).toBe(c.splits);
      expect(many.fns, `${n} threads`).toEqual(expect.arrayContaining(c.also ?? []));
      expect(many.data, `${n} threads`).toEqual(one.data);
    }
    const plain = outputs(plain2, c, seed);
    expect(plain.splits > 0).toBe(c.splits);
    expect(plain.data, 'plain SIMD, 2 threads').toEqual(outputs(plain1, c, seed).data);
  });
});

describe('threads: what a user sees', { tags: ['behaviour'] }, () => {
  const matmulOn = (b: WasmBackend) =>
    lh.tidy(() => {
      const on = caseInputs(b, 42);
      return Array.from(lh.matmul(on([200, 150]), on([150, 120])).dataSync());
    });
  const expected = matmulOn(backends.get(1)!);

  it('threads: 1 is the one-thread backend over an ordinary memory; capabilities say what runs', async () => {
    const one = backends.get(1)!,
      three = backends.get(3)!;
    expect(team(one)).toBeNull();
    const t = lh.tidy(() => lh.keep(lh.zeros([4], 'float32', one)));
    expect(one.view(t.storage).buffer).toBeInstanceOf(ArrayBuffer);
    t.dispose();
    expect(one.capabilities()).toMatchObject({ threadsRequested: 1, threadsInUse: 1 });
    expect(one.capabilities().threadsNote).toBeUndefined();
    expect(three.capabilities()).toMatchObject({ threads: true, threadsRequested: 3, threadsInUse: 3 });
  });

  it("the default is 'auto': one thread per core, at most 4, with the results of one thread", async () => {
    const cores = Math.min(4, availableParallelism());
    for (const b of [await lh.createBackend('wasm'), await lh.createBackend('wasm', { threads: 'auto' })]) {
      const w = b as WasmBackend;
      expect(w.capabilities()).toMatchObject({ threadsRequested: cores, threadsInUse: cores });
      expect(matmulOn(w)).toEqual(expected);
      w.destroy();
      expect(w.capabilities().threadsInUse).toBe(1); // destroyed: its helpers are gone, it goes on in one thread
    }
  });

  it("a thread count that is not 'auto' or a whole number from 1 to 64 is a typed INVALID_ARGUMENT", async () => {
    for (const threads of [0, 1.5, -2, 65, 'all' as 'auto'])
      await expect(lh.createBackend('wasm', { threads })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a helper that dies mid-call: WORKER_FAILED soon (no hang), then one thread with the same results', async () => {
    const b = await start(3);
    const t = team(b)!;
    t.timeoutMs = 500;
    t.misbehaveNext(2, 'die');
    const t0 = performance.now();
    let err: unknown;
    try {
      matmulOn(b);
    } catch (e) {
      err = e;
    }
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(LayerhiveError);
    expect((err as LayerhiveError).code).toBe('WORKER_FAILED');
    expect((err as LayerhiveError).detail).toMatch(/helper 2 did not answer gemm/);
    expect(b.threads).toBe(1);
    expect(b.capabilities()).toMatchObject({ threadsRequested: 3, threadsInUse: 1 });
    expect(String(b.capabilities().threadsNote)).toMatch(/back to one thread/);
    const runs = t.runs;
    expect(matmulOn(b)).toEqual(expected);
    expect(t.runs).toBe(runs);
    b.destroy();
  });

  it('a helper that stalls: WORKER_FAILED after the timeout, then one thread', async () => {
    const b = await start(2);
    const t = team(b)!;
    t.timeoutMs = 300;
    t.misbehaveNext(1, 'stall');
    const t0 = performance.now();
    expect(() => matmulOn(b)).toThrow(expect.objectContaining({ code: 'WORKER_FAILED' }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(b.capabilities().threadsInUse).toBe(1);
    expect(matmulOn(b)).toEqual(expected);
    b.destroy();
  });

  it('a helper killed between calls: the next calls run in one thread, and capabilities say why', async () => {
    const b = await start(2);
    expect(matmulOn(b)).toEqual(expected);
    await team(b)!.killForTests(1);
    for (let i = 0; i < 100 && b.threads > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(b.threads).toBe(1);
    expect(String(b.capabilities().threadsNote)).toMatch(/helper 1 ended/);
    expect(matmulOn(b)).toEqual(expected);
    b.destroy();
  });
});
