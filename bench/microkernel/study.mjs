// Compiles the micro-kernel study (source.mjs) with the installed AssemblyScript compiler, in memory, with the
// product's flags (wasm/build.mjs: -O3 --noAssert --runtime stub --importMemory, SIMD and relaxed SIMD), and runs
// its kernels on packed panels in an imported memory. Packing and the float64 reference are plain JS.
import { CEILING_CHAINS, aBytes, bBytes, ceilingExport, runExport, studySource, studyVariants } from './source.mjs';

/** The product's compiler flags (wasm/build.mjs `common` + `relaxed`) as compileString options. */
const ASC_OPTIONS = {
  optimizeLevel: 3,
  shrinkLevel: 0,
  noAssert: true,
  runtime: 'stub',
  importMemory: true,
  enable: ['simd', 'relaxed-simd'],
};

async function loadAsc() {
  try {
    return (await import('assemblyscript/asc')).default;
  } catch (err) {
    throw new Error(`cannot load the AssemblyScript compiler (assemblyscript/asc): ${err.message}`);
  }
}

/** { source, binary } of the study module for these variants and ceiling chain counts. */
export async function compileStudy(variants = studyVariants(), chains = CEILING_CHAINS) {
  const asc = await loadAsc();
  const source = studySource(variants, chains);
  const { binary, error, stderr } = await asc.compileString({ 'kernels.ts': source }, ASC_OPTIONS);
  if (error || !binary) throw new Error(`asc failed on the micro-kernel study:\n${stderr?.toString() || error}`);
  return { source, binary };
}

const align64 = (n) => (n + 63) & ~63;

/**
 * Instantiates the study over its own memory. Returns { tile(v, spec), ceiling(n) }: tile() packs one A and B block
 * for variant v and returns a runner over them; ceiling() a runner of the n-chain FMA loop.
 */
export function createStudy(binary) {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { memory } });
  let top = align64(exports.heapBase());
  const alloc = (bytes) => {
    const p = top;
    top = align64(top + bytes);
    const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
    if (need > 0) memory.grow(need);
    return p;
  };
  const f32 = (ptr, n) => new Float32Array(memory.buffer, ptr, n);
  return {
    tile: (v, spec) => makeTile(exports, alloc, f32, v, spec),
    ceiling: (n) => makeCeiling(exports[ceilingExport(n)], n),
  };
}

/**
 * One tile of variant v over A (mr×kc, row-major) and B (kc×nr, row-major), mr ≤ v.mr and nr ≤ v.nr (the packing
 * zero-pads the rest, as gemm.ts does for edge tiles). ldc: C row stride in floats (≥ v.nr); lda: the A row stride
 * in floats of the `rows` layout (≥ kc). C is filled with NaN first, so a store outside the tile shows.
 */
function makeTile(exports, alloc, f32, v, { A, B, mr, nr, kc, ldc = v.nr, lda = kc }) {
  if (mr > v.mr || nr > v.nr || ldc < v.nr || lda < kc) throw new Error(`${v.name}: bad tile spec`);
  const aLen = v.a === 'rows' ? v.mr * lda : aBytes(v, kc) / 4;
  const pa = alloc(aLen * 4);
  const pb = alloc(bBytes(v, kc));
  const c = alloc(v.mr * ldc * 4);
  f32(pa, aLen).set(packA(v, A, mr, kc, lda));
  f32(pb, kc * v.nr).set(packB(v, B, nr, kc));
  f32(c, v.mr * ldc).fill(Number.NaN);
  const run = exports[runExport(v)];
  return {
    flopsPerRep: 2 * v.mr * v.nr * kc,
    run: (reps) => run(pa, lda * 4, pb, kc, c, ldc * 4, reps),
    /** The whole C block, v.mr rows of ldc floats (a copy). */
    output: () => Float32Array.from(f32(c, v.mr * ldc)),
  };
}

/** A packed for variant v: `bcast` = for each k, v.mr vectors of 4 copies; `rows` = v.mr rows of lda floats. */
export function packA(v, A, mr, kc, lda = kc) {
  if (v.a === 'rows') {
    const out = new Float32Array(v.mr * lda);
    for (let r = 0; r < mr; r++) out.set(A.subarray(r * kc, (r + 1) * kc), r * lda);
    return out;
  }
  const out = new Float32Array(kc * v.mr * 4);
  for (let k = 0; k < kc; k++) {
    for (let r = 0; r < mr; r++) out.fill(A[r * kc + k], (k * v.mr + r) * 4, (k * v.mr + r + 1) * 4);
  }
  return out;
}

/** B packed in one v.nr-column panel: for each k, v.nr floats (zero past nr). */
export function packB(v, B, nr, kc) {
  const out = new Float32Array(kc * v.nr);
  for (let k = 0; k < kc; k++) out.set(B.subarray(k * nr, (k + 1) * nr), k * v.nr);
  return out;
}

/** C = A·B in float64 (A mr×kc, B kc×nr, row-major). */
export function referenceProduct(A, B, mr, nr, kc) {
  const C = new Float64Array(mr * nr);
  for (let r = 0; r < mr; r++) {
    for (let k = 0; k < kc; k++) {
      const a = A[r * kc + k];
      for (let j = 0; j < nr; j++) C[r * nr + j] += a * B[k * nr + j];
    }
  }
  return C;
}

/**
 * How far a tile's C block is from the reference: max |C − ref| over the mr×nr part, with the rest of the tile
 * (the padded rows and columns) held to 0 and the ldc gap to untouched (NaN). NaN or a touched gap gives Infinity.
 */
export function tileError(out, ref, { mr, nr, tileRows, tileCols, ldc }) {
  let err = 0;
  for (let r = 0; r < tileRows; r++) {
    for (let j = 0; j < ldc; j++) {
      const got = out[r * ldc + j];
      if (j >= tileCols) {
        if (!Number.isNaN(got)) return Infinity;
        continue;
      }
      const want = r < mr && j < nr ? ref[r * nr + j] : 0;
      const d = Math.abs(got - want);
      if (!(d <= err)) err = d; // NaN propagates
    }
  }
  return err;
}

/**
 * Runner of the n-chain FMA ceiling: iters trips of n fused multiply-adds on f32x4. x, y keep the chains bounded
 * (s ← s·x + y converges to y / (1 − x)).
 */
function makeCeiling(fn, n) {
  const x = 0.999;
  const y = 0.001;
  return {
    flopsPerRep: n * 8,
    run: (reps) => fn(reps, x, y),
    /** [what the loop returned, the float64 restatement of it] for `iters` trips. */
    check: (iters) => [fn(iters, x, y), ceilingReference(n, iters, x, y)],
  };
}

/** Lane 0 of the ceiling loop's result in float64: Σ_i s_i after iters steps of s_i ← s_i·x + y, s_i(0) = i·y. */
export function ceilingReference(n, iters, x, y) {
  const fx = Math.fround(x);
  const fy = Math.fround(y);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let s = Math.fround(i * fy);
    for (let t = 0; t < iters; t++) s = s * fx + fy;
    sum += s;
  }
  return sum;
}
