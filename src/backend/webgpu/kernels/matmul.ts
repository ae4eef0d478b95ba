import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { MatMulAttrs } from '../../js/kernels/matmul.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings } from '../wgsl.js';

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

/** Element accessors with the transposes and the batch broadcast folded in. */
function accessors(d: Dims): string {
  return `
fn A(batch: u32, i: u32, k: u32) -> f32 {
  let off = ${d.ba === 1 ? '0u' : `batch * ${d.ar * d.ac}u`};
  return a[off + ${d.ta ? `k * ${d.ac}u + i` : `i * ${d.ac}u + k`}];
}
fn Bm(batch: u32, k: u32, j: u32) -> f32 {
  let off = ${d.bb === 1 ? '0u' : `batch * ${d.br * d.bc}u`};
  return b[off + ${d.tb ? `j * ${d.bc}u + k` : `k * ${d.bc}u + j`}];
}`;
}

function blocked(d: Dims): { code: string; groups: number[] } {
  const code = `${bindings(
    [
      ['a', 'float32'],
      ['b', 'float32'],
    ],
    [['c', 'float32']],
  )}
${accessors(d)}
@compute @workgroup_size(8, 8) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let col0 = gid.x * 4u; let row0 = gid.y * 4u; let batch = gid.z;
  if (row0 >= ${d.M}u || col0 >= ${d.N}u) { return; }
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  let last = ${d.N - 1}u; let lastRow = ${d.M - 1}u;
  for (var k = 0u; k < ${d.K}u; k++) {
    let bv = vec4f(Bm(batch, k, min(col0, last)), Bm(batch, k, min(col0 + 1u, last)),
                   Bm(batch, k, min(col0 + 2u, last)), Bm(batch, k, min(col0 + 3u, last)));
    for (var r = 0u; r < 4u; r++) { acc[r] += A(batch, min(row0 + r, lastRow), k) * bv; }
  }
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row >= ${d.M}u) { break; }
    for (var q = 0u; q < 4u; q++) {
      if (col0 + q < ${d.N}u) { c[batch * ${d.M * d.N}u + row * ${d.N}u + col0 + q] = acc[r][q]; }
    }
  }
}`;
  return { code, groups: [Math.ceil(d.N / 32), Math.ceil(d.M / 32), d.B] };
}

function tiled(d: Dims): { code: string; groups: number[] } {
  const code = `${bindings(
    [
      ['a', 'float32'],
      ['b', 'float32'],
    ],
    [['c', 'float32']],
  )}
${accessors(d)}
var<workgroup> As: array<array<f32, 16>, 16>;
var<workgroup> Bs: array<array<f32, 16>, 16>;
@compute @workgroup_size(16, 16) fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row = wid.y * 16u + lid.y; let col = wid.x * 16u + lid.x; let batch = wid.z;
  var acc = 0.0;
  for (var t = 0u; t < ${d.K}u; t += 16u) {
    let ka = t + lid.x; let kb = t + lid.y;
    As[lid.y][lid.x] = select(0.0, A(batch, min(row, ${d.M - 1}u), min(ka, ${d.K - 1}u)),
                              row < ${d.M}u && ka < ${d.K}u);
    Bs[lid.y][lid.x] = select(0.0, Bm(batch, min(kb, ${d.K - 1}u), min(col, ${d.N - 1}u)),
                              kb < ${d.K}u && col < ${d.N}u);
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) { acc += As[lid.y][k] * Bs[k][lid.x]; }
    workgroupBarrier();
  }
  if (row < ${d.M}u && col < ${d.N}u) { c[batch * ${d.M * d.N}u + row * ${d.N}u + col] = acc; }
}`;
  return { code, groups: [Math.ceil(d.N / 16), Math.ceil(d.M / 16), d.B] };
}

export const matMulVariants: Record<MatMulVariant, (d: Dims) => { code: string; groups: number[] }> = {
  tiled,
  blocked,
};

export function matMulGpu(b: WebGpuBackend, [x, y]: readonly Tensor[], attrs: MatMulAttrs): Tensor {
  const d = dims(x, y, attrs);
  const out = makeTensor(b, [d.B, d.M, d.N]);
  if (d.M === 0 || d.N === 0) return out;
  if (d.K === 0) {
    b.run(
      `${bindings([], [['c', 'float32']])}
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * ${b.grid(out.size, 256).stride}u; if (i < ${out.size}u) { c[i] = 0.0; }
}`,
      [],
      [out],
      null,
      b.grid(out.size, 256).groups,
    );
    return out;
  }
  const { code, groups } = matMulVariants[b.matMulVariant](d);
  b.run(code, [x, y], [out], null, groups);
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
