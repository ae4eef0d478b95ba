/**
 * The kernel cases every backend is checked on against the js reference: odd sizes, every attribute. On wasm the
 * kernels without SIMD code are the js functions themselves, so cases that run only those compare js with js:
 * kernels-agree.test.ts finds them in the registry and files them apart; known-answers.test.ts checks their values.
 */
import { expect } from 'vitest';
import * as lh from '../../../src/index.js';
import { Rng, tensor, type Backend, type Tensor } from '../../../src/index.js';
import { runKernel } from '../../../src/backend/engine.js';
import type { OptimizerStepAttrs } from '../../../src/backend/kernel-attrs.js';
import { expectClose, js, randomArray } from '../helpers.js';

export type Case = {
  name: string;
  rtol: number;
  atol: number;
  run: (on: (shape: number[], lo?: number, hi?: number) => Tensor, b: Backend) => Tensor | Tensor[];
};

/** The random inputs of a case on `backend`: the same values for the same seed on every backend. */
export function caseInputs(backend: Backend, seed: number): (shape: number[], lo?: number, hi?: number) => Tensor {
  const rng = new Rng(seed);
  return (shape, lo = -1, hi = 1) =>
    tensor(
      randomArray(
        rng,
        shape.reduce((p, d) => p * d, 1),
        lo,
        hi,
      ),
      shape,
      'float32',
      backend,
    );
}

/**
 * Runs `c` on js and on `b` with identical random inputs (same seed) and compares every output. Reads are
 * asynchronous, so the same function serves the CPU backends and WebGPU.
 */
export async function agreeWithJs(b: Backend, c: Case, seed: number): Promise<void> {
  const outputs: { shape: number[]; data: number[] }[][] = [];
  for (const backend of [js, b]) {
    const on = caseInputs(backend, seed);
    const ts = lh.tidy(() => {
      const r = c.run(on, backend);
      return Array.isArray(r) ? r : [r];
    });
    outputs.push(await Promise.all(ts.map(async (t) => ({ shape: [...t.shape], data: Array.from(await t.data()) }))));
    lh.dispose(ts);
  }
  outputs[0].forEach((ref, i) => {
    expect(outputs[1][i].shape, `${c.name} output ${i} shape`).toEqual(ref.shape);
    expectClose(outputs[1][i].data, ref.data, c.rtol, c.atol, `${c.name} on ${b.flavour} output ${i}`);
  });
}

const mm: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 8],
  [17, 33, 9],
  [64, 784, 10],
  [127, 129, 65],
  [5, 0, 3],
];
export const cases: Case[] = [];
for (const [M, K, N] of mm)
  for (const ta of [false, true])
    for (const tb of [false, true]) {
      cases.push({
        name: `matmul ${M}x${K}x${N} tA=${ta} tB=${tb}`,
        rtol: 1e-4,
        atol: 2e-6 * Math.max(K, 1),
        run: (on) => lh.matmul(on(ta ? [K, M] : [M, K]), on(tb ? [N, K] : [K, N]), { transposeA: ta, transposeB: tb }),
      });
    }
cases.push(
  {
    name: 'matmul batched 3x[9x13]·[13x11]',
    rtol: 1e-4,
    atol: 3e-5,
    run: (on) => lh.matmul(on([3, 9, 13]), on([3, 13, 11])),
  },
  {
    name: 'matmul broadcast [2,3,9x13]·[13x11]',
    rtol: 1e-4,
    atol: 3e-5,
    run: (on) => lh.matmul(on([2, 3, 9, 13]), on([13, 11])),
  },
  {
    name: 'matmul broadcast [9x13]·[4,11x13]ᵀ',
    rtol: 1e-4,
    atol: 3e-5,
    run: (on) => lh.matmul(on([9, 13]), on([4, 11, 13]), { transposeB: true }),
  },
);

type ConvCase = { x: number[]; w: number[]; stride: number; dilation?: [number, number]; groups?: number };
/** pad: on every side, or [top, left, bottom, right] */
const convs: (ConvCase & { pad: number | [number, number, number, number] })[] = [
  { x: [2, 3, 7, 9], w: [5, 3, 3, 3], stride: 1, pad: 1 },
  { x: [2, 3, 7, 9], w: [5, 3, 3, 3], stride: 2, pad: 0 },
  { x: [1, 1, 28, 28], w: [4, 1, 5, 5], stride: 1, pad: 2 },
  { x: [3, 8, 6, 5], w: [7, 8, 1, 1], stride: 2, pad: 0 },
  { x: [2, 32, 14, 14], w: [64, 32, 3, 3], stride: 1, pad: 1 },
  // 7 images of 14×14 run as a chunk of 6 and a chunk of 1 on wasm (chunks aim at ~1024 GEMM columns)
  { x: [7, 3, 14, 14], w: [5, 3, 3, 3], stride: 1, pad: 1 },
  // Winograd on wasm (3×3, stride 1, ≥ 8 channels each side): odd sizes clip the last 2×2 tiles; pads 0, 1, 2
  { x: [3, 8, 7, 9], w: [8, 8, 3, 3], stride: 1, pad: 1 },
  { x: [2, 9, 6, 5], w: [10, 9, 3, 3], stride: 1, pad: 0 },
  { x: [1, 8, 5, 5], w: [12, 8, 3, 3], stride: 1, pad: 2 },
  // grouped (one GEMM per group on wasm; two chunks of images with 7 images), depthwise (wasm's direct kernels:
  // multiplier 1 and 2, stride 1 and 2, the four-wide rows and their tails), dilated; 3×3 stride 1 with ≥ 8 channels
  // grouped or dilated must not take Winograd
  { x: [2, 6, 7, 9], w: [4, 3, 3, 3], stride: 1, pad: 1, groups: 2 },
  { x: [7, 6, 14, 13], w: [9, 2, 3, 2], stride: 2, pad: 1, groups: 3 },
  { x: [2, 8, 6, 6], w: [12, 2, 1, 3], stride: 1, pad: 0, groups: 4 },
  { x: [2, 5, 9, 11], w: [5, 1, 3, 3], stride: 1, pad: 1, groups: 5 },
  { x: [3, 4, 10, 9], w: [8, 1, 3, 3], stride: 2, pad: 1, groups: 4 },
  { x: [2, 3, 11, 13], w: [6, 1, 3, 3], stride: 1, pad: 2, groups: 3, dilation: [2, 2] },
  { x: [1, 4, 12, 10], w: [4, 1, 5, 5], stride: 3, pad: 2, groups: 4, dilation: [1, 2] },
  { x: [2, 3, 9, 10], w: [4, 3, 3, 2], stride: 1, pad: 1, dilation: [2, 3] },
  { x: [2, 8, 9, 9], w: [8, 8, 3, 3], stride: 1, pad: 2, dilation: [2, 2] },
  { x: [1, 16, 6, 6], w: [16, 8, 3, 3], stride: 1, pad: 1, groups: 2 },
  // pads that differ before and after (TensorFlow's SAME at stride 2; never Winograd on wasm)
  { x: [2, 3, 8, 9], w: [4, 3, 3, 3], stride: 2, pad: [0, 0, 1, 1] },
  { x: [2, 8, 7, 6], w: [8, 8, 3, 3], stride: 1, pad: [2, 0, 0, 1] },
  { x: [3, 6, 9, 8], w: [6, 1, 3, 3], stride: 2, pad: [1, 0, 1, 2], groups: 6, dilation: [1, 2] },
];
for (const c of convs) {
  const d = c.dilation ?? [1, 1];
  const o = { stride: c.stride, pad: c.pad, dilation: d, groups: c.groups ?? 1 };
  const tol = { rtol: 1e-4, atol: 3e-6 * c.w[1] * c.w[2] * c.w[3] };
  const p = typeof c.pad === 'number' ? [c.pad, c.pad, c.pad, c.pad] : c.pad;
  const dyShape = (x: number[], w: number[]) => [
    x[0],
    w[0],
    Math.floor((x[2] + p[0] + p[2] - d[0] * (w[2] - 1) - 1) / c.stride) + 1,
    Math.floor((x[3] + p[1] + p[3] - d[1] * (w[3] - 1) - 1) / c.stride) + 1,
  ];
  const extra = `${c.groups ? ` g${c.groups}` : ''}${c.dilation ? ` d${c.dilation}` : ''}`;
  cases.push(
    {
      name: `conv2d ${c.x}*${c.w} s${c.stride} p${c.pad}${extra}`,
      ...tol,
      run: (on) => lh.conv2d(on(c.x), on(c.w), o),
    },
    {
      name: `conv2dBackpropInput ${c.x}*${c.w}${extra}`,
      ...tol,
      atol: 3e-6 * c.w[0] * c.w[2] * c.w[3],
      run: (on) => lh.conv2dBackpropInput(on(dyShape(c.x, c.w)), on(c.w), c.x, o),
    },
    {
      name: `conv2dBackpropFilter ${c.x}*${c.w}${extra}`,
      ...tol,
      atol: 3e-6 * c.x[0] * c.x[2] * c.x[3],
      run: (on) => lh.conv2dBackpropFilter(on(c.x), on(dyShape(c.x, c.w)), c.w, o),
    },
  );
}

// [1, 2, 6, 11] with a 2×2 window has 5 output columns: the four-wide SIMD path and its scalar tail
for (const [p, x] of [
  [{ kernel: 2 }, [2, 3, 7, 9]],
  [{ kernel: 2 }, [1, 2, 6, 11]],
  [{ kernel: 3, stride: 2, pad: 1 }, [2, 3, 7, 9]],
  [{ kernel: [2, 3] as [number, number], stride: 1 }, [2, 3, 7, 9]],
  // padding after only (ONNX ceil_mode on odd sizes): a last, partial window that wasm's 2×2 SIMD path must not take
  [{ kernel: 2, pad: [0, 0, 1, 1] as [number, number, number, number] }, [2, 3, 7, 9]],
  [{ kernel: 3, stride: 2, pad: [1, 0, 2, 1] as [number, number, number, number] }, [2, 3, 8, 9]],
  // averages that count the padding (ONNX count_include_pad); max pooling ignores the flag
  [{ kernel: 3, stride: 2, pad: 1, countPad: true }, [2, 3, 7, 9]],
  [
    {
      kernel: [3, 2] as [number, number],
      stride: 1,
      pad: [2, 0, 1, 1] as [number, number, number, number],
      countPad: true,
    },
    [1, 2, 5, 6],
  ],
] as const) {
  for (const kind of ['max', 'avg'] as const) {
    const fwd = kind === 'max' ? lh.maxPool2d : lh.avgPool2d,
      grad = kind === 'max' ? lh.maxPool2dGrad : lh.avgPool2dGrad;
    cases.push(
      { name: `${kind}Pool ${JSON.stringify(p)} on ${x}`, rtol: 1e-6, atol: 1e-6, run: (on) => fwd(on([...x]), p) },
      {
        name: `${kind}PoolGrad ${JSON.stringify(p)} on ${x}`,
        rtol: 1e-5,
        atol: 1e-6,
        run: (on) => {
          const xt = on([...x]);
          const y = fwd(xt, p);
          return grad(on([...y.shape]), xt, p);
        },
      },
    );
  }
}

// ties: after a ReLU many windows are all 0, and the gradient must go to the first of them on every backend
cases.push({
  name: 'maxPoolGrad 2×2 with tied windows',
  rtol: 1e-6,
  atol: 0,
  run: (on) => {
    const x = lh.relu(on([2, 3, 8, 12]));
    return lh.maxPool2dGrad(on([2, 3, 4, 6]), x, { kernel: 2 });
  },
});

const unaryTol: Record<string, number> = {
  relu: 0,
  neg: 0,
  abs: 0,
  sign: 0,
  square: 1e-7,
  sqrt: 1e-6,
  exp: 3e-6,
  log: 3e-6,
  sigmoid: 3e-6,
  tanh: 3e-6,
  gelu: 3e-6,
};
for (const op of lh.unaryOps) {
  const positive = op === 'log' || op === 'sqrt';
  const [lo, hi] = positive ? [0.05, 4] : op === 'exp' ? [-10, 10] : [-6, 6];
  for (const n of [1, 3, 4, 7, 33, 1001]) {
    cases.push(
      { name: `${op} n=${n}`, rtol: unaryTol[op], atol: 1e-7, run: (on) => lh.unary(op, on([n], lo, hi)) },
      {
        name: `${op} grad n=${n}`,
        rtol: unaryTol[op] * 2,
        atol: 1e-7,
        run: (on) => {
          const x = on([n], lo, hi);
          const v = lh.unaryGradUses[op] === 'x' ? x : lh.unary(op, x);
          return lh.unaryGrad(op, on([n]), v);
        },
      },
    );
  }
}

const bshapes: [number[], number[]][] = [
  [[7], [7]],
  [[5, 9], [1]],
  [[5, 9], [9]],
  [
    [3, 5, 9],
    [5, 9],
  ],
  [
    [2, 5, 3, 3],
    [1, 5, 1, 1],
  ],
  [
    [4, 6, 5],
    [6, 1],
  ],
  [[1], [4, 5]],
  [
    [3, 1, 5],
    [4, 1],
  ],
  [
    [1, 4],
    [3, 1],
  ],
];
for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'] as const)
  for (const [a, b] of bshapes) {
    const pos = op === 'pow' || op === 'div';
    cases.push({
      name: `${op} ${a}⊙${b}`,
      rtol: 2e-6,
      atol: 1e-7,
      run: (on) => lh.binary(op, on(a, pos ? 0.5 : -1, 2), on(b, pos ? 0.5 : -1, 2)),
    });
  }

const rshape = [3, 4, 5, 6];
// [0, 2, 3], [0, 3], [0, 1, 3] keep one contiguous block (per-channel statistics): wasm's outer × mid × inner path
for (const axes of [[3], [2, 3], [0], [0, 1], [1], [1, 3], [0, 1, 2, 3], [0, 2, 3], [0, 3], [0, 1, 3]])
  for (const keepDims of [false, true]) {
    cases.push(
      {
        name: `sum axes=${axes} keep=${keepDims}`,
        rtol: 1e-5,
        atol: 1e-5,
        run: (on) => lh.sum(on(rshape), axes, keepDims),
      },
      { name: `max axes=${axes} keep=${keepDims}`, rtol: 0, atol: 0, run: (on) => lh.max(on(rshape), axes, keepDims) },
      {
        name: `moments axes=${axes}`,
        rtol: 1e-5,
        atol: 1e-6,
        run: (on) => {
          const m = lh.moments(on(rshape), axes, keepDims);
          return [m.mean, m.variance];
        },
      },
    );
  }
for (const axis of [0, 1, 3])
  cases.push({
    name: `argmax axis=${axis}`,
    rtol: 0,
    atol: 0,
    run: (on) => lh.cast(lh.argmax(on(rshape), axis), 'float32'),
  });

for (const [r, c] of [
  [1, 1],
  [3, 10],
  [7, 33],
  [64, 10],
]) {
  cases.push(
    { name: `softmax ${r}x${c}`, rtol: 1e-5, atol: 1e-7, run: (on) => lh.softmax(on([r, c], -8, 8)) },
    { name: `logSoftmax ${r}x${c}`, rtol: 1e-5, atol: 1e-6, run: (on) => lh.logSoftmax(on([r, c], -8, 8)) },
    {
      name: `crossEntropy ${r}x${c}`,
      rtol: 1e-5,
      atol: 1e-6,
      run: (on, b) => lh.crossEntropy(on([r, c], -8, 8), labels(r, c, b), 'none'),
    },
    {
      name: `crossEntropyGrad ${r}x${c}`,
      rtol: 1e-5,
      atol: 1e-7,
      run: (on, b) => lh.crossEntropyGrad(on([r, c], -8, 8), labels(r, c, b)),
    },
  );
}
function labels(r: number, c: number, b: Backend): Tensor {
  return tensor(
    Int32Array.from({ length: r }, (_, i) => (i * 7 + 3) % c),
    [r],
    'int32',
    b,
  );
}
const idx = (b: Backend) => tensor(Int32Array.from([4, 0, 2, 4, 1, 3, 4]), [7], 'int32', b);
cases.push(
  { name: 'gather', rtol: 0, atol: 0, run: (on, b) => lh.gather(on([5, 6]), idx(b)) },
  { name: 'scatterAdd', rtol: 1e-6, atol: 1e-7, run: (on, b) => lh.scatterAdd(on([7, 6]), idx(b), 5) },
  {
    name: 'transpose [2,3,4,5] perm 0231',
    rtol: 0,
    atol: 0,
    run: (on) => lh.transpose(on([2, 3, 4, 5]), [0, 2, 3, 1]),
  },
  { name: 'concat axis 1', rtol: 0, atol: 0, run: (on) => lh.concat([on([2, 3, 4]), on([2, 5, 4])], 1) },
  { name: 'slice axis 1', rtol: 0, atol: 0, run: (on) => lh.slice(on([2, 7, 3]), 1, 2, 4) },
  { name: 'randomNormal same seed', rtol: 0, atol: 0, run: (_, b) => lh.randomNormal([33], new Rng(5), 0, 2, b) },
  { name: 'randomUniform same seed', rtol: 0, atol: 0, run: (_, b) => lh.randomUniform([33], new Rng(6), -1, 3, b) },
  { name: 'dropoutMask same seed', rtol: 0, atol: 0, run: (_, b) => lh.dropoutMask([50], 0.3, new Rng(7), b) },
);

// the fused optimiser updates, in place on the parameter and its state, three steps, odd sizes (SIMD tail)
for (const n of [1, 37, 1030]) {
  const adam = { kind: 'adam', lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
  cases.push(
    {
      name: `optimizer adam n=${n}`,
      rtol: 1e-5,
      atol: 1e-6,
      run: (on) => steps(on, n, 2, (k) => ({ ...adam, weightDecay: 0.1, decoupled: false, step: k })),
    },
    {
      name: `optimizer adamw n=${n}`,
      rtol: 1e-5,
      atol: 1e-6,
      run: (on) => steps(on, n, 2, (k) => ({ ...adam, weightDecay: 0.1, decoupled: true, step: k })),
    },
    {
      name: `optimizer sgd momentum n=${n}`,
      rtol: 1e-5,
      atol: 1e-6,
      run: (on) => steps(on, n, 1, () => ({ kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 })),
    },
    {
      name: `optimizer sgd n=${n}`,
      rtol: 1e-5,
      atol: 1e-6,
      run: (on) => steps(on, n, 0, () => ({ kind: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0 })),
    },
  );
}
function steps(
  on: (shape: number[]) => Tensor,
  n: number,
  slots: number,
  attrs: (step: number) => OptimizerStepAttrs,
): Tensor[] {
  const p = on([n]),
    state = Array.from({ length: slots }, () => lh.mul(on([n]), 0));
  for (let k = 1; k <= 3; k++) runKernel('OptimizerStep', [p, on([n]), ...state], attrs(k));
  return [p, ...state];
}
