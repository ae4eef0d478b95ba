import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { MatMulAttrs } from '../../kernel-attrs.js';
import { Params, type WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear, linearLaunch } from '../wgsl.js';

/**
 * 'tiled': 16×16 shared-memory tiles (real GPUs); 'blocked': 4×4 outputs a thread from registers, no barriers (CPU
 * adapters).
 */
export type MatMulVariant = 'tiled' | 'blocked';

interface Dims {
  B: number;
  M: number;
  N: number;
  K: number;
  ba: number;
  bb: number;
  ar: number;
  ac: number;
  br: number;
  bc: number;
  ta: boolean;
  tb: boolean;
}

function dims(x: Tensor, y: Tensor, { transposeA, transposeB }: MatMulAttrs): Dims {
  const [ba, ar, ac] = x.shape,
    [bb, br, bc] = y.shape;
  return {
    B: Math.max(ba, bb),
    M: transposeA ? ac : ar,
    K: transposeA ? ar : ac,
    N: transposeB ? br : bc,
    ba,
    bb,
    ar,
    ac,
    br,
    bc,
    ta: transposeA,
    tb: transposeB,
  };
}

/**
 * The sizes every matmul kernel reads as uniforms (so one pipeline per kernel kind and transposes serves every
 * shape): M, N, K, each operand's batch stride (0 for a broadcast batch) and row length, and the output's batch
 * stride.
 */
function matMulParams(d: Dims): Params {
  return new Params().u({
    M: d.M,
    N: d.N,
    K: d.K,
    aBatch: d.ba === 1 ? 0 : d.ar * d.ac,
    ac: d.ac,
    bBatch: d.bb === 1 ? 0 : d.br * d.bc,
    bc: d.bc,
    cBatch: d.M * d.N,
  });
}

/** Element accessors with the transposes and the batch broadcast folded in. */
function accessors(d: Dims): string {
  return `
fn A(batch: u32, i: u32, k: u32) -> f32 {
  let off = batch * p.aBatch;
  return a[off + ${d.ta ? 'k * p.ac + i' : 'i * p.ac + k'}];
}
fn Bm(batch: u32, k: u32, j: u32) -> f32 {
  let off = batch * p.bBatch;
  return b[off + ${d.tb ? 'j * p.bc + k' : 'k * p.bc + j'}];
}`;
}

function blocked(d: Dims): { code: string; groups: number[]; params: Params } {
  const params = matMulParams(d);
  const code = `${bindings(
    [
      ['a', 'float32'],
      ['b', 'float32'],
    ],
    [['c', 'float32']],
    params.struct(),
  )}
${accessors(d)}
@compute @workgroup_size(8, 8) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let col0 = gid.x * 4u; let row0 = gid.y * 4u; let batch = gid.z;
  if (row0 >= p.M || col0 >= p.N) { return; }
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  let last = p.N - 1u; let lastRow = p.M - 1u;
  for (var k = 0u; k < p.K; k++) {
    let bv = vec4f(Bm(batch, k, min(col0, last)), Bm(batch, k, min(col0 + 1u, last)),
                   Bm(batch, k, min(col0 + 2u, last)), Bm(batch, k, min(col0 + 3u, last)));
    for (var r = 0u; r < 4u; r++) { acc[r] += A(batch, min(row0 + r, lastRow), k) * bv; }
  }
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row >= p.M) { break; }
    for (var q = 0u; q < 4u; q++) {
      if (col0 + q < p.N) { c[batch * p.cBatch + row * p.N + col0 + q] = acc[r][q]; }
    }
  }
}`;
  return { code, groups: [Math.ceil(d.N / 32), Math.ceil(d.M / 32), d.B], params };
}

function tiled(d: Dims): { code: string; groups: number[]; params: Params } {
  const params = matMulParams(d);
  const code = `${bindings(
    [
      ['a', 'float32'],
      ['b', 'float32'],
    ],
    [['c', 'float32']],
    params.struct(),
  )}
${accessors(d)}
var<workgroup> As: array<array<f32, 16>, 16>;
var<workgroup> Bs: array<array<f32, 16>, 16>;
@compute @workgroup_size(16, 16) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row = wid.y * 16u + lid.y; let col = wid.x * 16u + lid.x; let batch = wid.z;
  var acc = 0.0;
  for (var t = 0u; t < p.K; t += 16u) {
    let ka = t + lid.x; let kb = t + lid.y;
    As[lid.y][lid.x] = select(0.0, A(batch, min(row, p.M - 1u), min(ka, p.K - 1u)), row < p.M && ka < p.K);
    Bs[lid.y][lid.x] = select(0.0, Bm(batch, min(kb, p.K - 1u), min(col, p.N - 1u)), kb < p.K && col < p.N);
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) { acc += As[lid.y][k] * Bs[k][lid.x]; }
    workgroupBarrier();
  }
  if (row < p.M && col < p.N) { c[batch * p.cBatch + row * p.N + col] = acc; }
}`;
  return { code, groups: [Math.ceil(d.N / 16), Math.ceil(d.M / 16), d.B], params };
}

/** The WGSL of each kind depends on the transposes only; `params` carries the shape. */
export const matMulVariants: Record<MatMulVariant, (d: Dims) => { code: string; groups: number[]; params: Params }> = {
  tiled,
  blocked,
};

export function matMulGpu(b: WebGpuBackend, [x, y]: readonly Tensor[], attrs: MatMulAttrs): Tensor {
  const d = dims(x, y, attrs);
  const out = makeTensor(b, [d.B, d.M, d.N]);
  if (d.M === 0 || d.N === 0) return out;
  if (d.K === 0) {
    const { params, groups } = linearLaunch(b, out.size);
    b.run(`${bindings([], [['c', 'float32']], params.struct())}\n${linear('c[i] = 0.0;')}`, [], [out], params, groups);
    return out;
  }
  const { code, groups, params } = matMulVariants[b.matMulVariant](d);
  b.run(code, [x, y], [out], params, groups);
  return out;
}

type MatMulChoice = NonNullable<WebGpuBackend['matMulChoice']>;
const chosen = new Map<string, MatMulChoice>();

/**
 * Times both matmul kernels on this adapter (256³, and the MLP's 64×784×512; after a warm-up) and keeps the
 * faster; the choice (with both times, as `b.matMulChoice`) is cached per adapter for the life of the page or
 * process.
 */
export async function tuneMatMul(
  b: WebGpuBackend,
): Promise<{ variant: MatMulVariant; ms: Record<MatMulVariant, number> }> {
  const key = `${b.adapterName}|${b.fallbackAdapter}`;
  let choice = chosen.get(key);
  if (!choice) {
    const ms = { tiled: 0, blocked: 0 };
    const shapes: [number, number, number][] = [
      [256, 256, 256],
      [64, 784, 512],
    ];
    const inputs = shapes.map(([M, K, N]) => [makeTensor(b, [1, M, K]), makeTensor(b, [1, K, N])]);
    for (const [x, y] of inputs) {
      b.write(x.storage, new Float32Array(x.size).fill(0.5));
      b.write(y.storage, new Float32Array(y.size).fill(0.25));
    }
    for (const v of ['tiled', 'blocked'] as const) {
      b.matMulVariant = v;
      const once = async () => {
        for (const [x, y] of inputs) matMulGpu(b, [x, y], { transposeA: false, transposeB: false }).dispose();
        await b.sync();
      };
      await once();
      const t0 = performance.now();
      await once();
      ms[v] = performance.now() - t0;
    }
    for (const t of inputs.flat()) t.dispose();
    choice = Object.freeze({ ...ms, chosen: ms.blocked < ms.tiled ? 'blocked' : 'tiled' } as const);
    chosen.set(key, choice);
  }
  b.matMulVariant = choice.chosen;
  b.matMulChoice = choice;
  return { variant: choice.chosen, ms: { tiled: choice.tiled, blocked: choice.blocked } };
}
