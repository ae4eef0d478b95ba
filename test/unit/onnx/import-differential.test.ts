/**
 * Differential conformance of the ONNX importer: a seeded generator of single-op graphs over every op and attribute
 * the importer reads (opsets 7–25), each run in onnxruntime-node and in layerhive (wasm-relaxed; js on every fourth):
 * the outputs agree to 1e-4, or the importer refuses with a LayerhiveError naming the node and op. Never a silent
 * wrong result. The per-op table (cases / agree / refused / invalid for onnxruntime) is printed.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { importOnnx, LayerhiveError, loadOnnx, Rng, tensor, tidy } from '../../../src/index.js';
import { js, randomArray, wasmRelaxed } from '../helpers.js';
import { type Attr, bytesOf, graphOf, INT64, init, irFor, node, onnx } from './graphs.js';

interface Case {
  op: string;
  opset: number;
  input: number[];
  /** the batch dimension as the graph declares it */
  batch: number | 'N';
  attrs: Record<string, Attr>;
  weights: ReturnType<typeof init>[];
  /** extra node inputs after x (weight names) */
  inputs: string[];
  /** what the layerhive output is compared after (a dropped final Softmax/LogSoftmax) */
  post?: 'softmax' | 'logsoftmax';
  /** a second node (MatMul + Add) */
  add?: { bias: ReturnType<typeof init>; first: boolean };
}

const rng = new Rng(20261130);
const int = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
const pick = <T>(a: readonly T[]): T => a[rng.int(a.length)];
const maybe = (p = 0.5) => rng.uniform() < p;
const values = (n: number) => Array.from(randomArray(rng, n));
const opsetFrom = (lo: number) => int(Math.max(7, lo), 25);

function poolCase(op: 'MaxPool' | 'AveragePool'): Case {
  const k = [int(1, 3), int(1, 3)];
  const attrs: Record<string, Attr> = { kernel_shape: k };
  let lo = 7;
  if (maybe(0.7)) attrs.strides = [int(1, 3), int(1, 3)];
  const pad = pick(['none', 'sym', 'asym', 'SAME_UPPER', 'SAME_LOWER', 'VALID', 'NOTSET'] as const);
  if (pad === 'sym') {
    const p = [rng.int(k[0]), rng.int(k[1])];
    attrs.pads = [p[0], p[1], p[0], p[1]];
  } else if (pad === 'asym') attrs.pads = [rng.int(k[0]), rng.int(k[1]), rng.int(k[0]), rng.int(k[1])];
  else if (pad !== 'none') attrs.auto_pad = pad;
  if (maybe(0.25)) {
    attrs.ceil_mode = int(0, 1);
    lo = 10;
  }
  if (op === 'AveragePool' && maybe(0.3)) attrs.count_include_pad = int(0, 1);
  if (maybe(0.15)) {
    attrs.dilations = pick([
      [1, 1],
      [2, 1],
      [2, 2],
    ]);
    lo = op === 'MaxPool' ? 10 : 19;
  }
  if (op === 'MaxPool' && maybe(0.1)) attrs.storage_order = 0;
  return {
    op,
    opset: opsetFrom(lo),
    input: [int(1, 3), int(3, 8), int(3, 8)],
    batch: 2,
    attrs,
    weights: [],
    inputs: [],
  };
}

function convCase(): Case {
  const C = int(1, 3),
    F = int(1, 4),
    k = [int(1, 3), int(1, 3)];
  const attrs: Record<string, Attr> = {};
  let group = 1;
  if (maybe(0.1)) {
    group = C; // depthwise, multiplier 1 (groupedConvCase draws more)
    attrs.group = group;
  }
  const Fg = group === 1 ? F : C;
  if (maybe(0.6)) attrs.strides = [int(1, 3), int(1, 3)];
  if (maybe(0.3)) attrs.kernel_shape = k;
  const pad = pick(['none', 'sym', 'asym', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const);
  if (pad === 'sym') {
    const p = [rng.int(k[0]), rng.int(k[1])];
    attrs.pads = [p[0], p[1], p[0], p[1]];
  } else if (pad === 'asym') attrs.pads = [rng.int(k[0]), rng.int(k[1]), rng.int(k[0]), rng.int(k[1])];
  else if (pad !== 'none') attrs.auto_pad = pad;
  if (maybe(0.1))
    attrs.dilations = pick([
      [1, 1],
      [2, 2],
    ]);
  const bias = maybe();
  const wd = [Fg, C / group, k[0], k[1]];
  return {
    op: 'Conv',
    opset: opsetFrom(7),
    input: [C, int(3, 7), int(3, 7)],
    batch: pick([2, 'N'] as const),
    attrs,
    weights: [init('w', wd, values(wd.reduce((p, d) => p * d))), ...(bias ? [init('b', [Fg], values(Fg))] : [])],
    inputs: bias ? ['w', 'b'] : ['w'],
  };
}

/**
 * Conv with `group` and `dilations` (ONNX Conv): depthwise (group = C, 1–3 filters per channel), grouped (2–4 groups
 * of 1–3 channels) or dilated (1–3 per axis, with or without groups), over strides, pads (the same or not on both
 * sides), auto_pad and a bias; weight [F, C / group, kh, kw].
 */
function groupedConvCase(): Case {
  const kind = pick(['depthwise', 'grouped', 'dilated'] as const);
  const group = kind === 'depthwise' ? int(2, 6) : kind === 'grouped' ? int(2, 4) : pick([1, 1, 2, 3]);
  const Cg = kind === 'depthwise' ? 1 : int(1, 3),
    F = group * int(1, 3),
    k = [int(1, 3), int(1, 3)];
  const attrs: Record<string, Attr> = {};
  if (group !== 1 || maybe(0.2)) attrs.group = group;
  if (kind === 'dilated' || maybe(0.3)) attrs.dilations = [int(1, 3), int(1, 3)];
  if (maybe(0.5)) attrs.strides = [int(1, 2), int(1, 3)];
  if (maybe(0.3)) attrs.kernel_shape = k;
  // SAME with dilations is refused by onnxruntime (and so by layerhive): drawn rarely
  const dilated = (attrs.dilations as number[] | undefined)?.some((d) => d !== 1);
  const pads = ['none', 'sym', 'sym', 'VALID', ...(dilated ? [] : ['SAME_UPPER', 'SAME_LOWER'])] as const;
  const pad = maybe(0.03) ? 'SAME_UPPER' : maybe(0.2) ? 'asym' : pick(pads);
  if (pad === 'sym') {
    const p = [rng.int(k[0] + 1), rng.int(k[1] + 1)];
    attrs.pads = [p[0], p[1], p[0], p[1]];
  } else if (pad === 'asym') attrs.pads = [rng.int(k[0] + 1), rng.int(k[1] + 1), rng.int(k[0] + 1), rng.int(k[1] + 1)];
  else if (pad !== 'none') attrs.auto_pad = pad;
  const bias = maybe();
  const wd = [F, Cg, k[0], k[1]];
  return {
    op: 'Conv',
    opset: opsetFrom(7),
    input: [group * Cg, int(7, 11), int(7, 11)],
    batch: pick([2, 'N'] as const),
    attrs,
    weights: [init('w', wd, values(wd.reduce((p, d) => p * d))), ...(bias ? [init('b', [F], values(F))] : [])],
    inputs: bias ? ['w', 'b'] : ['w'],
  };
}

function gemmCase(): Case {
  const attrs: Record<string, Attr> = {};
  if (maybe(0.1)) attrs.transA = 1; // refused; A is [K, M] with K = 2 (the batch fed) and M features
  const K = attrs.transA ? 2 : int(1, 5),
    N = int(1, 5);
  const transB = maybe() ? 1 : 0;
  if (transB || maybe(0.3)) attrs.transB = transB;
  if (maybe()) attrs.alpha = { f: pick([0.5, -1.5, 2]) };
  if (maybe()) attrs.beta = { f: pick([0, 0.25, -2]) };
  const cShape = pick([null, [N], [1, N], [1], [], [1, 1], [2, N], [2, 1]] as const);
  const lo = cShape === null ? 11 : 7; // C is optional from Gemm-11
  const w = transB ? [N, K] : [K, N];
  const weights = [init('w', w, values(K * N))];
  if (cShape) weights.push(init('c', [...cShape], values(cShape.reduce((p: number, d: number) => p * d, 1))));
  return {
    op: 'Gemm',
    opset: opsetFrom(lo),
    input: [attrs.transA ? int(1, 4) : K],
    batch: 2,
    attrs,
    weights,
    inputs: cShape ? ['w', 'c'] : ['w'],
  };
}

function matmulCase(): Case {
  const K = int(1, 6),
    N = int(1, 6);
  const c: Case = {
    op: 'MatMul',
    opset: opsetFrom(7),
    input: [K],
    batch: pick([2, 'N'] as const),
    attrs: {},
    weights: [init('w', [K, N], values(K * N))],
    inputs: ['w'],
  };
  if (maybe(0.6)) c.add = { bias: init('bias', pick([[N], [1, N], [1]]), []), first: maybe() };
  if (c.add) c.add.bias.floatData = values(c.add.bias.dims!.reduce((p, d) => p * Number(d), 1));
  return c;
}

function flattenCase(): Case {
  const rank = int(1, 3);
  const input = Array.from({ length: rank }, () => pick([1, 1, 2, 3, 4]));
  const attrs: Record<string, Attr> = {};
  let lo = 9;
  if (maybe(0.8)) {
    attrs.axis = int(-(rank + 1), rank + 1);
    if ((attrs.axis as number) < 0) lo = 11;
  }
  return { op: 'Flatten', opset: opsetFrom(lo), input, batch: pick([2, 'N'] as const), attrs, weights: [], inputs: [] };
}

function reshapeCase(): Case {
  const a = pick([1, 2, 3]),
    b = pick([2, 4, 6]);
  const F = a * b;
  const target = pick([
    [0, -1],
    [-1, F],
    [0, F],
    [2, -1],
    [-1, 4],
    [4, -1],
    [0, a, b],
    [0, b, a],
    [0, 0, -1],
    [-1, a, b],
    [0, -1, 1],
    [2, a, b],
    [0, 1, F],
  ]);
  return {
    op: 'Reshape',
    opset: opsetFrom(7),
    input: [a, b],
    batch: pick([2, 'N'] as const),
    attrs: {},
    weights: [init('s', [target.length], target, INT64)],
    inputs: ['s'],
  };
}

function softmaxCase(op: 'Softmax' | 'LogSoftmax'): Case {
  const input = maybe(0.75) ? [int(2, 6)] : [int(2, 3), int(2, 3)];
  const r = input.length + 1;
  const attrs: Record<string, Attr> = {};
  let lo = 7;
  if (maybe(0.7)) {
    attrs.axis = int(-r, r - 1);
    if ((attrs.axis as number) < 0) lo = 11;
  }
  const post = op === 'Softmax' ? 'softmax' : 'logsoftmax';
  return { op, opset: opsetFrom(lo), input, batch: pick([2, 'N'] as const), attrs, weights: [], inputs: [], post };
}

function batchNormCase(): Case {
  const C = int(1, 4);
  const input = maybe(0.7) ? [C, int(1, 4), int(1, 4)] : [C];
  const attrs: Record<string, Attr> = {};
  const opset = opsetFrom(7);
  if (maybe()) attrs.epsilon = { f: pick([1e-5, 1e-3, 0.1]) };
  if (opset >= 14 && maybe(0.15)) attrs.training_mode = 0;
  if (opset < 9 && maybe(0.2)) attrs.spatial = 1;
  const stat = (name: string, lo: number, hi: number) => init(name, [C], Array.from(randomArray(rng, C, lo, hi)));
  return {
    op: 'BatchNormalization',
    opset,
    input,
    batch: pick([2, 'N'] as const),
    attrs,
    weights: [stat('s', -1, 1), stat('b', -1, 1), stat('m', -0.5, 0.5), stat('v', 0.2, 2)],
    inputs: ['s', 'b', 'm', 'v'],
  };
}

function simpleCase(op: string): Case {
  const input = Array.from({ length: int(1, 3) }, () => int(1, 4));
  return { op, opset: opsetFrom(7), input, batch: pick([2, 'N'] as const), attrs: {}, weights: [], inputs: [] };
}

/** name, cases, generator, and whether every case runs on js too (else every fourth) */
const generators: [string, number, () => Case, boolean?][] = [
  ['MaxPool', 110, () => poolCase('MaxPool')],
  ['AveragePool', 110, () => poolCase('AveragePool')],
  ['Conv', 110, convCase],
  ['Gemm', 80, gemmCase],
  ['MatMul', 40, matmulCase],
  ['Flatten', 60, flattenCase],
  ['Reshape', 60, reshapeCase],
  ['Softmax', 40, () => softmaxCase('Softmax')],
  ['LogSoftmax', 30, () => softmaxCase('LogSoftmax')],
  ['BatchNormalization', 40, batchNormCase],
  ['Relu', 10, () => simpleCase('Relu')],
  ['Sigmoid', 10, () => simpleCase('Sigmoid')],
  ['Tanh', 10, () => simpleCase('Tanh')],
  ['Identity', 10, () => simpleCase('Identity')],
  ['Dropout', 10, () => simpleCase('Dropout')],
  // last, so the cases above keep their draws
  ['Conv group/dilations', 200, groupedConvCase, true],
];

function bytesOfCase(c: Case): Uint8Array {
  const nodes = [node(c.op, ['x', ...c.inputs], [c.add ? 'm' : 'y'], c.attrs, 'n0')];
  if (c.add) nodes.push(node('Add', c.add.first ? ['m', 'bias'] : ['bias', 'm'], ['y'], {}, 'n1'));
  return bytesOf(
    graphOf(nodes, [c.batch, ...c.input], [...c.weights, ...(c.add ? [c.add.bias] : [])]),
    c.opset,
    irFor(c.opset),
  );
}

function describeCase(c: Case): string {
  const a = Object.entries(c.attrs)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  const w = c.weights.map(
    (t) => `${t.name}[${t.dims?.join(',')}]${t.int64Data?.length ? `=${t.int64Data.join(',')}` : ''}`,
  );
  const add = c.add ? ` +Add(${c.add.bias.dims})` : '';
  return `${c.op} opset ${c.opset} x[${c.batch},${c.input}] ${a} ${w.join(' ')}${add}`;
}

function normalise(v: Float32Array, rows: number, post: Case['post']): Float32Array {
  if (!post) return v;
  const n = v.length / rows,
    out = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) {
    const row = v.subarray(r * n, r * n + n);
    const m = Math.max(...row);
    const s = row.reduce((p, x) => p + Math.exp(x - m), 0);
    for (let j = 0; j < n; j++)
      out[r * n + j] = post === 'softmax' ? Math.exp(row[j] - m) / s : row[j] - m - Math.log(s);
  }
  return out;
}

type Outcome = { kind: 'agree' | 'refused' | 'invalid'; why?: string; worst: number };

/**
 * One graph in onnxruntime-node and in layerhive: agreement to 1e-4 (relative above 1) on wasm-relaxed (and js when
 * asked), or a LayerhiveError naming the node and op; a graph onnxruntime rejects must not load in layerhive either.
 */
async function differ(bytes: Uint8Array, inShape: number[], post: Case['post'], what: string, withJs: boolean) {
  const x = randomArray(rng, 2 * inShape.reduce((p, d) => p * d, 1), -2, 2);
  let ref: { data: Float32Array; dims: readonly number[] } | null = null;
  try {
    const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
    const out = (await s.run({ x: new ort.Tensor('float32', x, [2, ...inShape]) }))[s.outputNames[0]];
    ref = { data: out.data as Float32Array, dims: out.dims };
    await s.release();
  } catch {
    ref = null;
  }
  // the final softmax layerhive drops (it returns logits) is applied to its output here: only when it was the
  // graph's end (a mutation may make an earlier value the output)
  let softmaxDropped = false;
  try {
    softmaxDropped = (await importOnnx(bytes)).notes.some((n) => /the final (Log)?Softmax/.test(n));
  } catch (e) {
    expect(e, what).toBeInstanceOf(LayerhiveError);
    expect((e as LayerhiveError).message, what).toMatch(/node 'n\d+'|opset|graph|input|initializer/);
    const detail = (e as LayerhiveError).detail;
    const why =
      /attribute (\w+)/.exec(detail)?.[1] ??
      detail
        .replace(/^node 'n\d+' (\(\w+\):? )?/, '')
        .replace(/'[^']*'/g, '…')
        .replace(/ [([].*$/, '')
        .replace(/\d+/g, '#');
    return { kind: ref ? 'refused' : 'invalid', why, worst: 0 } as Outcome;
  }
  // a graph onnxruntime rejects (a negative SAME pad, an attribute the opset lacks) must not load either
  expect(ref, `${what}: onnxruntime rejects it, layerhive loads it`).not.toBeNull();
  if (!ref) return { kind: 'invalid', worst: 0 } as Outcome;
  let worst = 0;
  for (const b of withJs ? [wasmRelaxed, js] : [wasmRelaxed]) {
    const { model } = await loadOnnx(bytes, b);
    const got = tidy(() => Float32Array.from(model.predict(tensor(x, [2, ...inShape], 'float32', b)).dataSync()));
    for (const t of [...model.namedParams().values(), ...model.namedBuffers().values()]) t.dispose();
    expect([...ref.dims], `${what}: shape`).toEqual([2, ...model.outputShape]);
    const ours = normalise(got, 2, softmaxDropped ? post : undefined);
    expect(ours.length, what).toBe(ref.data.length);
    for (let j = 0; j < ours.length; j++) {
      const d = Math.abs(ours[j] - ref.data[j]) / Math.max(1, Math.abs(ref.data[j]));
      worst = Math.max(worst, d);
      expect(d, `${what} on ${b.name}: element ${j} is ${ours[j]}, onnxruntime ${ref.data[j]}`).toBeLessThanOrEqual(
        1e-4,
      );
    }
  }
  return { kind: 'agree', worst } as Outcome;
}

/** A small chain as PyTorch exports a CNN or MLP: Conv → BN? → act → pool? → Flatten/Reshape → dense → softmax?. */
async function chainCase(): Promise<{ bytes: Uint8Array; input: number[]; post: Case['post']; what: string }> {
  const opset = opsetFrom(11);
  const C = int(1, 2),
    H = int(5, 9),
    W = int(5, 9);
  const nodes: ReturnType<typeof node>[] = [];
  const weights: ReturnType<typeof init>[] = [];
  let cur = 'x',
    n = 0;
  const add = (op: string, extra: string[], a: Record<string, Attr> = {}) => {
    const out = `t${n}`;
    nodes.push(node(op, [cur, ...extra], [out], a, `n${n++}`));
    cur = out;
  };
  const F = int(1, 3),
    k = int(1, 3);
  weights.push(init('cw', [F, C, k, k], values(F * C * k * k)), init('cb', [F], values(F)));
  const convAttrs: Record<string, Attr> = maybe()
    ? { auto_pad: pick(['SAME_UPPER', 'VALID']) }
    : { pads: [1, 1, 1, 1] };
  if (maybe()) convAttrs.strides = [int(1, 2), int(1, 2)];
  add('Conv', ['cw', 'cb'], convAttrs);
  if (maybe()) {
    weights.push(init('s', [F], values(F)), init('b', [F], values(F)), init('m', [F], values(F)));
    weights.push(init('v', [F], Array.from(randomArray(rng, F, 0.5, 2))));
    add('BatchNormalization', ['s', 'b', 'm', 'v']);
  }
  add(pick(['Relu', 'Tanh', 'Sigmoid']), []);
  if (maybe(0.7))
    add(pick(['MaxPool', 'AveragePool']), [], { kernel_shape: [2, 2], ...(maybe() ? { strides: [2, 2] } : {}) });
  if (maybe()) add('Flatten', [], maybe() ? { axis: -3 } : {});
  else {
    weights.push(init('shape', [2], [0, -1], INT64));
    add('Reshape', ['shape']);
  }
  // the feature count for the dense layer, from onnxruntime's shapes of the graph so far
  const partial = bytesOf(graphOf(nodes, [2, C, H, W], weights, cur), opset, irFor(opset));
  const x = new Float32Array(2 * C * H * W);
  const s = await ort.InferenceSession.create(partial, { logSeverityLevel: 4 });
  const K = (await s.run({ x: new ort.Tensor('float32', x, [2, C, H, W]) }))[cur].dims[1];
  await s.release();
  const N = int(2, 5);
  if (maybe()) {
    const transB = int(0, 1);
    weights.push(init('gw', transB ? [N, K] : [K, N], values(K * N)), init('gb', [N], values(N)));
    add('Gemm', ['gw', 'gb'], { transB, alpha: { f: pick([1, 0.5]) } });
  } else {
    weights.push(init('mw', [K, N], values(K * N)), init('mb', [N], values(N)));
    add('MatMul', ['mw']);
    add('Add', ['mb']);
  }
  if (maybe(0.3)) add(pick(['Dropout', 'Identity']), []);
  const post = pick([undefined, 'softmax', 'logsoftmax'] as const);
  if (post) add(post === 'softmax' ? 'Softmax' : 'LogSoftmax', [], maybe() ? { axis: 1 } : {});
  const names = nodes.map((nd) => nd.opType).join('→');
  return {
    bytes: bytesOf(graphOf(nodes, ['N', C, H, W], weights, cur), opset, irFor(opset)),
    input: [C, H, W],
    post,
    what: `chain opset ${opset} ${names} ${JSON.stringify(convAttrs)}`,
  };
}

const tally = () => ({ cases: 0, agree: 0, refused: 0, invalid: 0 });
const row = (name: string, r: ReturnType<typeof tally>) =>
  `| ${name} | ${r.cases} | ${r.agree} | ${r.refused} | ${r.invalid} |`;
const header = ['| op | cases | agree | refused (typed) | invalid for onnxruntime |', '|---|---|---|---|---|'];

describe('ONNX import agrees with onnxruntime-node', { tags: ['outside'] }, () => {
  it('seeded single-op graphs over every accepted op and attribute: agree to 1e-4 or a typed refusal', async () => {
    rng.setState(new Rng(20261130).getState());
    const table = new Map<string, ReturnType<typeof tally>>();
    const refusals = new Map<string, number>();
    const byOpset = new Map<number, number>();
    let worst = 0,
      k = 0;
    for (const [name, count, gen, allJs] of generators) {
      const r = tally();
      table.set(name, r);
      for (let i = 0; i < count; i++, k++) {
        const c = gen();
        const o = await differ(bytesOfCase(c), c.input, c.post, describeCase(c), allJs || k % 4 === 0);
        r.cases++;
        r[o.kind]++;
        worst = Math.max(worst, o.worst);
        if (o.kind === 'refused') refusals.set(`${name}: ${o.why}`, (refusals.get(`${name}: ${o.why}`) ?? 0) + 1);
        if (o.kind === 'agree') byOpset.set(c.opset, (byOpset.get(c.opset) ?? 0) + 1);
      }
    }
    const opsets = [...byOpset].sort((p, q) => p[0] - q[0]).map(([o, n]) => `${o}: ${n}`);
    console.log(
      [...header, ...[...table].map(([op, r]) => row(op, r))].join('\n'),
      `\nworst relative |Δ| ${worst.toExponential(2)}\nrefusals: ${JSON.stringify(Object.fromEntries(refusals))}`,
      `\nagreeing cases by opset: ${opsets.join(', ')}`,
    );
    for (const [op, r] of table) expect(r.agree, `${op} agrees at least once`).toBeGreaterThan(0);
    // group, dilations and per-side pads on Conv are read, never refused (Conv's auto_pad is still refused where
    // SAME would pad by a negative amount: a stride above the kernel)
    for (const why of refusals.keys()) expect(why).not.toMatch(/^Conv.*: (group|dilations|pads)$/);
    // pools: per-side pads and ceil_mode are read too (dilations and count_include_pad over padding are refused)
    for (const why of refusals.keys()) expect(why).not.toMatch(/^(MaxPool|AveragePool): (pads|ceil_mode)$/);
    expect(table.get('Conv group/dilations')!.agree).toBeGreaterThan(150);
    for (let o = 7; o <= 25; o++) expect(byOpset.get(o) ?? 0, `opset ${o} agrees at least once`).toBeGreaterThan(0);
  });

  it('seeded small chains (Conv, BN, activation, pool, Flatten/Reshape, Gemm/MatMul+Add, Softmax) agree', async () => {
    rng.setState(new Rng(61).getState());
    const r = tally();
    const whys = new Map<string, number>();
    let worst = 0;
    for (let i = 0; i < 60; i++) {
      const c = await chainCase();
      const o = await differ(c.bytes, c.input, c.post, c.what, i % 4 === 0);
      r.cases++;
      r[o.kind]++;
      worst = Math.max(worst, o.worst);
      if (o.why) whys.set(o.why, (whys.get(o.why) ?? 0) + 1);
    }
    console.log(
      [...header, row('chains', r)].join('\n'),
      `\nworst relative |Δ| ${worst.toExponential(2)}; refusals ${JSON.stringify(Object.fromEntries(whys))}`,
    );
    expect(r.agree).toBeGreaterThan(40);
  });

  it('seeded structural mutations of valid chains: agree with onnxruntime, or a typed refusal', async () => {
    rng.setState(new Rng(150).getState());
    const r = tally();
    const whys = new Map<string, number>();
    const ops = ['Gemm', 'MatMul', 'Conv', 'MaxPool', 'AveragePool', 'Flatten', 'Reshape', 'Relu', 'Identity'];
    for (let i = 0; i < 150; i++) {
      const c = await chainCase();
      const m = onnx.ModelProto.decode(c.bytes);
      const g = m.graph!;
      const nodes = g.node!;
      const nd = pick(nodes);
      const what = i % 7;
      if (what === 0) nd.input!.splice(rng.int(nd.input!.length), 1);
      else if (what === 1 && nd.attribute?.length) {
        const a = pick(nd.attribute);
        if (a.ints?.length) a.ints = a.ints.map(() => rng.int(5) - 1);
        else if (a.type === onnx.AttributeProto.AttributeType.INT) a.i = rng.int(5) - 2;
        else a.f = rng.uniform() * 4 - 2;
      } else if (what === 2) nd.opType = pick(ops);
      else if (what === 3) m.opsetImport![0].version = int(5, 27);
      else if (what === 4) nodes.splice(rng.int(nodes.length), 1);
      else if (what === 5) g.output![0].name = pick([...nodes.map((n) => n.output![0]), 'x']);
      else {
        const t = pick(g.initializer!);
        t.dims = t.dims!.map((d) => (maybe() ? Number(d) : int(1, 4)));
      }
      const bytes = onnx.ModelProto.encode(m).finish();
      const o = await differ(bytes, c.input, c.post, `${c.what}, mutation ${i} (${what})`, false);
      r.cases++;
      r[o.kind]++;
      if (o.why) whys.set(o.why, (whys.get(o.why) ?? 0) + 1);
    }
    console.log([...header, row('mutated chains', r)].join('\n'), `\n${JSON.stringify(Object.fromEntries(whys))}`);
    expect(r.cases).toBe(150);
  });
});
