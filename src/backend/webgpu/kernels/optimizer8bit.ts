import type { Tensor } from '../../../core/tensor.js';
import { fail } from '../../../core/errors.js';
import type { OptimizerStep8bitAttrs } from '../../kernel-attrs.js';
import { Params, type WebGpuBackend } from '../webgpu-backend.js';
import { bindings } from '../wgsl.js';
import { BUCKET_BITS, BUCKETS, EMIN, THRESHOLDS } from '../../js/kernels/optimizer8bit.js';

const THREADS = 256;

/**
 * The fused 8-bit optimiser updates as the paper's kernel does them: one workgroup per block; each thread
 * dequantises its words of four codes, updates them in registers (and the parameter), the workgroup reduces the new
 * absmax in shared memory, then each thread requantises its values and writes whole words (pad bytes past the end
 * of the tensor are 0, as on the CPU backends). Same operation order as the js reference; WGSL allows division and
 * sqrt a few ulp of error, so a value on a threshold may take the neighbouring code on some adapter.
 */
export function optimizerStep8bitGpu(b: WebGpuBackend, inputs: readonly Tensor[], a: OptimizerStep8bitAttrs): Tensor[] {
  const [w, g, t1, c1, a1, t2, c2, a2] = inputs;
  const n = w.size,
    bs = a.blockSize;
  if (bs % 4 !== 0 || bs <= 0)
    fail('INVALID_ARGUMENT', `block size ${bs} is not a positive multiple of 4`, 'use the default block of 2048');
  const blocks = Math.ceil(n / bs);
  if (!blocks) return [];
  const { groups } = b.grid(blocks, 1);
  const words = Math.ceil(bs / 4 / THREADS);
  const params = new Params().u({ n, blocks, gx: groups[0] });
  const adam = a.kind === 'adam';
  if (a.kind === 'sgd') params.f({ lr: a.lr, mom: a.momentum, wd: a.weightDecay });
  else {
    const b1 = Math.fround(a.beta1),
      b2 = Math.fround(a.beta2);
    params.f({
      b1,
      a1: Math.fround(1 - b1),
      b2,
      a2: Math.fround(1 - b2),
      l2: a.decoupled ? 0 : a.weightDecay,
      keep: a.decoupled ? 1 - a.lr * a.weightDecay : 1,
      step: a.lr / (1 - a.beta1 ** a.step),
      c2: 1 - a.beta2 ** a.step,
      eps: a.epsilon,
    });
  }
  const update = adam
    ? `let v0 = t2[(bitcast<u32>(c2[wi]) >> (8u * l)) & 255u] * amax2;
        let gi = g[i] + p.l2 * w[i];
        let mi = p.b1 * m0 + p.a1 * gi;
        let vi = p.b2 * v0 + p.a2 * (gi * gi);
        s1[j * 4u + l] = mi; s2[j * 4u + l] = vi;
        mx1 = max(mx1, abs(mi)); mx2 = max(mx2, vi);
        w[i] = w[i] * p.keep - (p.step * mi) / (sqrt(vi / p.c2) + p.eps);`
    : `let vel = p.mom * m0 + (g[i] + p.wd * w[i]);
        s1[j * 4u + l] = vel;
        mx1 = max(mx1, abs(vel));
        w[i] = w[i] - p.lr * vel;`;
  const code = `${bindings(
    adam
      ? [
          ['g', 'float32'],
          ['t1', 'float32'],
          ['t2', 'float32'],
        ]
      : [
          ['g', 'float32'],
          ['t1', 'float32'],
        ],
    adam
      ? [
          ['w', 'float32'],
          ['c1', 'int32'],
          ['a1', 'float32'],
          ['c2', 'int32'],
          ['a2', 'float32'],
        ]
      : [
          ['w', 'float32'],
          ['c1', 'int32'],
          ['a1', 'float32'],
        ],
    params.struct(),
  )}
const BS = ${bs}u;
const WORDS = ${words}u;
var<workgroup> red1: array<f32, ${THREADS}>;
var<workgroup> red2: array<f32, ${THREADS}>;
${codeFn('t1')}
${adam ? codeFn('t2') : ''}
fn quant(x: f32, amax: f32) -> f32 { return select(0.0, x / amax, amax > 0.0); }
@compute @workgroup_size(${THREADS}) fn main(@builtin(workgroup_id) wid: vec3u,
    @builtin(local_invocation_index) t: u32) {
  let blk = min(wid.x + wid.y * p.gx, p.blocks - 1u);
  let live = wid.x + wid.y * p.gx < p.blocks;
  let start = blk * BS;
  let stop = min(p.n, start + BS);
  let amax1 = a1[blk];
  ${adam ? 'let amax2 = a2[blk];' : ''}
  var s1: array<f32, ${4 * words}>;
  var s2: array<f32, ${4 * words}>;
  var mx1 = 0.0;
  var mx2 = 0.0;
  for (var j = 0u; j < WORDS; j++) {
    let wi = start / 4u + t + ${THREADS}u * j;
    for (var l = 0u; l < 4u; l++) {
      let i = wi * 4u + l;
      if (live && i < stop) {
        let m0 = t1[(bitcast<u32>(c1[wi]) >> (8u * l)) & 255u] * amax1;
        ${update}
      }
    }
  }
  red1[t] = mx1;
  red2[t] = mx2;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { red1[t] = max(red1[t], red1[t + s]); red2[t] = max(red2[t], red2[t + s]); }
    workgroupBarrier();
  }
  let n1 = red1[0];
  let n2 = red2[0];
  for (var j = 0u; j < WORDS; j++) {
    let wi = start / 4u + t + ${THREADS}u * j;
    if (live && wi * 4u < stop) {
      var q1 = 0u;
      var q2 = 0u;
      for (var l = 0u; l < 4u; l++) {
        if (wi * 4u + l < stop) {
          q1 |= code_t1(quant(s1[j * 4u + l], n1)) << (8u * l);
          ${adam ? 'q2 |= code_t2(quant(s2[j * 4u + l], n2)) << (8u * l);' : ''}
        }
      }
      c1[wi] = bitcast<i32>(q1);
      ${adam ? 'c2[wi] = bitcast<i32>(q2);' : ''}
    }
  }
  if (live && t == 0u) {
    a1[blk] = n1;
    ${adam ? 'a2[blk] = n2;' : ''}
  }
}`;
  b.run(code, adam ? [g, t1, t2] : [g, t1], adam ? [w, c1, a1, c2, a2] : [w, c1, a1], params, groups);
  return [];
}

/**
 * The code of a normalised value: how many of the table's thresholds lie below x, from its bucket's count and the
 * one threshold the bucket may hold (table layout: the js kernel's optimizer8bit.ts; counts as u32 bits).
 */
const codeFn = (t: string) => `fn code_${t}(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let e = clamp((b >> 23u) & 255u, ${EMIN}u, 127u);
  let mantissa = (b >> ${23 - BUCKET_BITS}u) & ${(1 << BUCKET_BITS) - 1}u;
  let idx = (((b >> 31u) * ${128 - EMIN}u + e - ${EMIN}u) << ${BUCKET_BITS}u) | mantissa;
  let c0 = bitcast<u32>(${t}[${BUCKETS}u + idx]);
  return c0 + select(0u, 1u, ${t}[${THRESHOLDS}u + c0] < x);
}`;
