// The AssemblyScript source of the micro-kernel study, generated from the variant list.
//
// Every variant is the same program with four knobs (rows MR, columns NR, how A reaches the kernel, k unroll), so
// the source is written by one generator rather than by hand: two variants can then differ only in the knob being
// studied, and trying a shape is one line in VARIANTS. `npm run bench -- microkernel` writes the generated source
// to .tmp/microkernel/kernels.ts (git-ignored) for reading.
//
// A layouts:
//   bcast  packed, every A value pre-broadcast to a full f32x4: kc groups of MR vectors (wasm/kernels/gemm.ts packA).
//          The kernel reads A with plain v128 loads at immediate offsets.
//   rows   A read in place, MR row pointers advancing by one float per k, each value broadcast by
//          v128.load32_splat (XNNPACK's "loadsplat" kernels; gemm.ts's kernel6x8Direct).
// B is always packed in NR-column panels: kc groups of NR floats (gemm.ts packB for NR = 8).
//
// Code layouts: each shape is generated as written (`/p0`) and with 1 to 3 padding counters in its k loop (`/p1` …
// `/p3`): i32 adds (one 3-byte instruction each per trip) that only move the loop's branches to other byte offsets.
// V8 puts functions and loop headers at 64-byte boundaries (as the listings show), so where a loop's branches fall
// is fixed by the loop's own code; on Skylake-family cores (this Cascade Lake included) a jump that crosses or ends
// on a 32-byte boundary is kept out of the decoded-µop cache (the JCC erratum microcode update), which can cost a
// tight loop more than its shape does. Timing each shape in four code layouts separates the two; codegen.mjs says
// which layouts have such a jump in the k loop.

/** V8 on x64 allocates SIMD values to xmm0–xmm14 (xmm15 is its scratch register). */
export const SIMD_REGISTERS = 15;

/**
 * The variants. name: the table label; mr × nr: the tile; a: the A layout (above); unroll: k steps per loop trip
 * (a remainder loop of single steps follows when unroll > 1); why: what the variant is here for.
 */
export const VARIANTS = [
  { name: '6x8', mr: 6, nr: 8, a: 'bcast', unroll: 1, why: 'ours today (gemm.ts kernel6x8)' },
  { name: '6x8-u2', mr: 6, nr: 8, a: 'bcast', unroll: 2, why: 'ours, k unrolled twice (gemm.ts says it spills)' },
  { name: '6x8-rows', mr: 6, nr: 8, a: 'rows', unroll: 1, why: 'ours, A in place (gemm.ts kernel6x8Direct)' },
  { name: '5x8', mr: 5, nr: 8, a: 'bcast', unroll: 1, why: 'one row less: 2 registers spare' },
  { name: '4x8', mr: 4, nr: 8, a: 'bcast', unroll: 1, why: '8 accumulator chains' },
  { name: '4x8-rows', mr: 4, nr: 8, a: 'rows', unroll: 1, why: "XNNPACK's x86 relaxed-SIMD 4x8 loadsplat" },
  { name: '8x8', mr: 8, nr: 8, a: 'bcast', unroll: 1, why: '16 accumulators: more than the registers' },
  { name: '3x16', mr: 3, nr: 16, a: 'bcast', unroll: 1, why: '12 accumulators like 6x8, but 4 B vectors' },
  { name: '4x16', mr: 4, nr: 16, a: 'bcast', unroll: 1, why: '4x16 with our pre-broadcast A' },
  { name: '4x16-rows', mr: 4, nr: 16, a: 'rows', unroll: 1, why: "XNNPACK's 4x16 loadsplat, k not unrolled" },
  { name: '4x16-rows-u2', mr: 4, nr: 16, a: 'rows', unroll: 2, why: "XNNPACK's 4x16 loadsplat_u2 (the issue's)" },
  { name: '6x16', mr: 6, nr: 16, a: 'bcast', unroll: 1, why: '24 accumulators' },
];

/** Padding counters per code layout (see the top of the file). */
export const LAYOUTS = [0, 1, 2, 3];

/** Every variant in every code layout: { ...variant, shape: its name, pad, name: 'shape/pN' }. */
export function studyVariants(variants = VARIANTS, layouts = LAYOUTS) {
  return variants.flatMap((v) => layouts.map((pad) => ({ ...v, shape: v.name, pad, name: `${v.name}/p${pad}` })));
}

/** Independent FMA chains per ceiling loop. */
export const CEILING_CHAINS = [4, 8, 12, 16];

/** SIMD registers the k loop needs live at once: the accumulators, the B vectors of one k, one A vector. */
export function registersNeeded(v) {
  return (v.mr * v.nr) / 4 + v.nr / 4 + 1;
}

/** Bytes of the packed A block for kc steps. */
export function aBytes(v, kc) {
  return v.a === 'bcast' ? kc * v.mr * 16 : kc * v.mr * 4;
}

/** Bytes of the packed B panel for kc steps. */
export function bBytes(v, kc) {
  return kc * v.nr * 4;
}

const ident = (v) => v.name.replace(/[^A-Za-z0-9]/g, '_');
/** The wasm export of variant v's micro-kernel. */
export const kernelExport = (v) => `k_${ident(v)}`;
/** The wasm export that runs variant v `reps` times over the same panels. */
export const runExport = (v) => `run_${ident(v)}`;
/** The wasm export of ceiling loop with n chains. */
export const ceilingExport = (n) => `fma_${n}`;

/** One k step: load the B vectors, then per row one A vector and its NR/4 multiply-adds. */
function kStep(v, u) {
  const nv = v.nr / 4;
  const lines = [];
  for (let j = 0; j < nv; j++) lines.push(`b${j} = load<v128>(pb, ${(u * nv + j) * 16});`);
  for (let r = 0; r < v.mr; r++) {
    const a = v.a === 'bcast' ? `load<v128>(pa, ${(u * v.mr + r) * 16})` : `v128.load32_splat(a${r}, ${u * 4})`;
    const fmas = [];
    for (let j = 0; j < nv; j++) fmas.push(`c${r}_${j} = f32x4.relaxed_madd(a, b${j}, c${r}_${j});`);
    lines.push(`a = ${a}; ${fmas.join(' ')}`);
  }
  return lines;
}

/** Names of variant v's padding counters: v.pad loop-carried i32 counters that only move the loop's code. */
const pads = (v) => Array.from({ length: v.pad ?? 0 }, (_, i) => `z${i}`);

/** Pointer bumps (and padding counts) after `steps` k steps. */
function advance(v, steps) {
  const bump = [`pb += ${steps * v.nr * 4};`, `k -= ${steps};`, ...pads(v).map((z) => `${z} += 1;`)];
  if (v.a === 'bcast') return [`pa += ${steps * v.mr * 16};`, ...bump];
  return [Array.from({ length: v.mr }, (_, r) => `a${r} += ${steps * 4};`).join(' '), ...bump];
}

function loop(v, cond, steps) {
  const body = [];
  for (let u = 0; u < steps; u++) body.push(...kStep(v, u));
  body.push(...advance(v, steps));
  return [`while (${cond}) {`, ...body.map((l) => `  ${l}`), '}'];
}

/**
 * The micro-kernel of variant v: C[MR×NR] (row stride ldc bytes) = A·B over kc steps, C overwritten. It returns
 * the sum of its padding counters (0 without), which keeps them from being optimised away.
 */
export function kernelSource(v) {
  const nv = v.nr / 4;
  const acc = [];
  for (let r = 0; r < v.mr; r++) for (let j = 0; j < nv; j++) acc.push(`c${r}_${j}`);
  const rows = v.a === 'rows' ? Array.from({ length: v.mr }, (_, r) => `let a${r}: usize = pa + ${r} * lda;`) : [];
  const body = [
    ...acc.map((c) => `let ${c} = f32x4.splat(0);`),
    `let a: v128, ${Array.from({ length: nv }, (_, j) => `b${j}: v128`).join(', ')};`,
    ...rows,
    ...pads(v).map((z) => `let ${z}: i32 = 0;`),
    'let k = kc;',
    ...loop(v, `k >= ${v.unroll}`, v.unroll),
    ...(v.unroll > 1 ? loop(v, 'k > 0', 1) : []),
  ];
  for (let r = 0; r < v.mr; r++) {
    const stores = [];
    for (let j = 0; j < nv; j++) stores.push(`store<v128>(c, c${r}_${j}, ${j * 16});`);
    body.push(`${stores.join(' ')} c += ldc;`);
  }
  body.push(`return ${['0', ...pads(v)].join(' + ')};`);
  return [
    `// ${v.name}: ${v.mr}x${v.nr} tile, A ${v.a}, k unrolled ${v.unroll}x, ${v.pad ?? 0} padding counters (${v.why}).`,
    // Exported so that Binaryen does not inline it into the driver below: the kernel stays a call per tile, as in
    // gemm.ts, and its loop is compiled on its own.
    `export function ${kernelExport(v)}(pa: usize, lda: usize, pb: usize, kc: i32, c: usize, ldc: usize): i32 {`,
    ...body.map((l) => `  ${l}`),
    '}',
    `export function ${runExport(v)}(pa: usize, lda: usize, pb: usize, kc: i32, c: usize, ldc: usize,`,
    '  reps: i32): void {',
    `  for (let i = 0; i < reps; i++) ${kernelExport(v)}(pa, lda, pb, kc, c, ldc);`,
    '}',
  ].join('\n');
}

/**
 * The FMA ceiling with n independent chains s_i ← s_i·x + y: no memory traffic in the loop. x and y are
 * parameters so that nothing folds; the chains start apart and are summed at the end so none is dead or merged.
 */
export function ceilingSource(n) {
  const s = Array.from({ length: n }, (_, i) => `s${i}`);
  return [
    `export function ${ceilingExport(n)}(iters: i32, x: f32, y: f32): f32 {`,
    '  const vx = f32x4.splat(x), vy = f32x4.splat(y);',
    ...s.map((v, i) => `  let ${v} = f32x4.splat(<f32>${i} * y);`),
    '  for (let i = 0; i < iters; i++) {',
    ...s.map((v) => `    ${v} = f32x4.relaxed_madd(${v}, vx, vy);`),
    '  }',
    `  const t = ${s.reduce((sum, v) => (sum ? `f32x4.add(${sum}, ${v})` : v), '')};`,
    '  return f32x4.extract_lane(t, 0);',
    '}',
  ].join('\n');
}

/** The whole module: every variant, every ceiling, and heapBase() for the caller's allocations. */
export function studySource(variants = studyVariants(), chains = CEILING_CHAINS) {
  return [
    '// GENERATED by bench/microkernel/source.mjs. Do not edit.',
    '/** First free byte of linear memory (no static data is expected, but do not assume). */',
    'export function heapBase(): usize { return __heap_base; }',
    ...variants.map(kernelSource),
    ...chains.map(ceilingSource),
    '',
  ].join('\n\n');
}
