// The `microkernel` suite: which relaxed-SIMD GEMM micro-kernel shape is fastest on this engine, single thread, as a
// fraction of a pure-FMA ceiling measured in the same process.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs microkernel [--quick] [--repeats N] [--out FILE]
//
// Rows:
//   micro-kernels  the shapes of microkernel/source.mjs, each in four code layouts (/p0 as written, /p1–/p3 with
//                  padding that only moves the loop's branches; see source.mjs), compiled now with the installed
//                  AssemblyScript and the product's flags. Each is called `reps` times from a wasm loop (no JS call
//                  per tile) on one packed A block and one B panel of KC = 128 steps (the product's KC), which stay
//                  in L1: no variant's panels take more than 20 KiB. A call zeroes its accumulators, runs the k loop
//                  and stores the tile.
//   FMA ceiling    loops of n independent f32x4.relaxed_madd chains, no memory traffic; the best median is the
//                  ceiling every row is divided by.
//   product gemm   the product's whole gemm (wasm/build/kernels-relaxed.wasm) on 512³, for context.
// Every row's result is checked against a float64 JS computation of the same product; a row off by more than
// 1e-4·√K·max|ref| is WRONG and the exit code is 1.
//
// Timing: each row is warmed up (at least 5 calls, so V8 has tiered its code up to TurboFan) and given a rep count
// so one sample lasts ~15 ms (10 ms --quick); then 31 samples (5 --quick) are taken round-robin, one per row per
// round with the order rotated each round, so that machine noise falls on every row alike and rows can be compared
// round by round (the paired ratios of the summary). A sample is timed by the process's CPU time
// (process.cpuUsage), not the wall clock: on a shared machine the wall clock also counts the time other processes
// hold the core. Wall-clock medians are in the JSON too.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { machineInfo } from './machine.mjs';
import { analyseProduct, analyseStudy } from './microkernel/codegen.mjs';
import { PRODUCT_WASM, productGemm, referenceGemm } from './microkernel/product.mjs';
import {
  CEILING_CHAINS,
  SIMD_REGISTERS,
  VARIANTS,
  ceilingExport,
  kernelExport,
  registersNeeded,
  studyVariants,
} from './microkernel/source.mjs';
import { compileStudy, createStudy, referenceProduct, tileError } from './microkernel/study.mjs';
import { seedFrom, uniformArray } from './random.mjs';
import { median } from './timing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const RESULTS_FILE = join(here, 'results', 'microkernel.json');
/** Where the generated AssemblyScript is written for reading (git-ignored). */
const SOURCE_COPY = join(here, '..', '.tmp', 'microkernel', 'kernels.ts');

/** K steps per micro-kernel call: the product's KC (wasm/kernels/gemm.ts). */
export const KC = 128;
/** The product GEMM's size. */
const GEMM_SIZE = 512;
/** max_abs_err ≤ TOL_FACTOR · √K · max|ref|, as in the kernels suite. */
const TOL_FACTOR = 1e-4;
/** Ceiling loop trips of the correctness check (its float64 restatement runs them one by one). */
const CEILING_CHECK_ITERS = 1000;
/** The shape the product uses today. */
const BASELINE = '6x8';

/**
 * Many short samples rather than a few long ones: on a shared machine the slow phases (another process on the
 * core or its sibling) last seconds, so short rounds put every row of a round in the same phase, and the median of
 * many rounds is the speed of the phase the machine spends most time in.
 */
const SETTINGS = {
  full: { samples: 31, sampleS: 0.015, warmupS: 0.1 },
  quick: { samples: 5, sampleS: 0.01, warmupS: 0.03 },
};

function log(msg) {
  process.stderr.write(`[microkernel] ${msg}\n`);
}

/** One micro-kernel row per variant and code layout: { name, shape, kind, what, regs, loop, runner, check }. */
function microkernelRows(study, code) {
  return studyVariants().map((v) => {
    const A = uniformArray(v.mr * KC, seedFrom(`microkernel:A:${v.mr}`));
    const B = uniformArray(KC * v.nr, seedFrom(`microkernel:B:${v.nr}`));
    const runner = study.tile(v, { A, B, mr: v.mr, nr: v.nr, kc: KC });
    const ref = referenceProduct(A, B, v.mr, v.nr, KC);
    return {
      name: v.name,
      shape: v.shape,
      kind: 'microkernel',
      what: `${v.mr}×${v.nr}, A ${v.a}, k×${v.unroll}`,
      why: v.why,
      variant: v,
      regs: registersNeeded(v),
      loop: code.stats?.get(kernelExport(v)) ?? null,
      runner,
      check: () => ({
        err: tileError(runner.output(), ref, { mr: v.mr, nr: v.nr, tileRows: v.mr, tileCols: v.nr, ldc: v.nr }),
        tol: TOL_FACTOR * Math.sqrt(KC) * maxAbs(ref),
      }),
    };
  });
}

function ceilingRows(study, code) {
  return CEILING_CHAINS.map((n) => {
    const runner = study.ceiling(n);
    return {
      name: `fma×${n}`,
      kind: 'ceiling',
      what: `${n} chains, no memory`,
      why: `FMA ceiling: ${n} independent chains`,
      regs: n + 2, // the chains and the two constant vectors
      loop: code.stats?.get(ceilingExport(n)) ?? null,
      runner,
      check: () => {
        const [got, want] = runner.check(CEILING_CHECK_ITERS);
        return { err: Math.abs(got - want), tol: 1e-4 * Math.abs(want) };
      },
    };
  });
}

function gemmRow() {
  const n = GEMM_SIZE;
  const A = uniformArray(n * n, seedFrom('microkernel:gemm:A'));
  const B = uniformArray(n * n, seedFrom('microkernel:gemm:B'));
  const runner = productGemm(n, n, n, A, B);
  const base = { name: `gemm ${n}³`, kind: 'gemm', what: 'product, 6×8 packed', why: 'the product gemm, whole' };
  if (runner.unavailable) return { ...base, unavailable: runner.unavailable };
  const code = analyseProduct(readFileSync(PRODUCT_WASM));
  if (code.error) log(`no loop code for the product: ${code.error}`);
  return {
    ...base,
    regs: 15, // kernel6x8: 12 accumulators, 2 B vectors, 1 A vector
    loop: code.stats ?? null,
    runner,
    check: () => {
      const ref = referenceGemm(n, n, n, A, B);
      return { err: maxAbsDiff(runner.output(), ref), tol: TOL_FACTOR * Math.sqrt(n) * maxAbs(ref) };
    },
  };
}

function maxAbs(arr) {
  let m = 0;
  for (const x of arr) if (!(Math.abs(x) <= m)) m = Math.abs(x);
  return m;
}

function maxAbsDiff(out, ref) {
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(out[i] - ref[i]);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

/** { cpu, wall } seconds of one run(reps) call. */
function timeRun(row, reps) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  row.runner.run(reps);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall };
}

/**
 * Warm a row up and pick its rep count. Reps double while a call is under 5 ms; the rate of the last call (by
 * then TurboFan code: wasm code tiers up between calls, never inside one) sets reps for one sample of sampleS.
 */
async function calibrate(row, { sampleS, warmupS }) {
  let reps = 1;
  let spent = 0;
  let per = Infinity;
  for (let calls = 0; calls < 5 || spent < warmupS; calls++) {
    const { cpu, wall } = timeRun(row, reps);
    spent += wall;
    per = Math.max(cpu, 1e-6) / reps;
    if (wall < 0.005) reps *= 2;
    await nextTick();
  }
  row.reps = Math.max(1, Math.round(sampleS / per));
}

/** samples rounds; each round times every row once, starting one row later than the round before. */
async function sampleRoundRobin(rows, samples) {
  for (const row of rows) {
    row.gflops = [];
    row.gflopsWall = [];
  }
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[(i + s) % rows.length];
      const { cpu, wall } = timeRun(row, row.reps);
      const flops = row.runner.flopsPerRep * row.reps;
      row.gflops.push(flops / cpu / 1e9);
      row.gflopsWall.push(flops / wall / 1e9);
    }
    await nextTick();
  }
  for (const row of rows) {
    row.median = median(row.gflops);
    row.min = Math.min(...row.gflops);
    row.max = Math.max(...row.gflops);
  }
}

/** Median over rounds of a.gflops[s] / b.gflops[s], and in how many rounds a was the faster. */
function paired(a, b) {
  const ratios = a.gflops.map((g, s) => g / b.gflops[s]);
  return { ratio: median(ratios), faster: ratios.filter((r) => r > 1).length, rounds: ratios.length };
}

const fmtG = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const best = (rows) => rows.reduce((b, r) => (r.median > b.median ? r : b));
/** cli-table3 without rules between rows: the tables are long and pasted into reports. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

function regsText(row) {
  if (row.regs == null) return '-';
  const spills = row.loop ? row.loop.stack > 0 : row.regs > SIMD_REGISTERS;
  return `${row.regs}/${SIMD_REGISTERS}${spills ? (row.loop ? ' spills' : ' spills?') : ''}`;
}

function loopText(loop) {
  if (!loop) return '-';
  return `${loop.fma} fma ${loop.loads} ld ${loop.stack} stk ${loop.moves} mov / ${loop.instructions}`;
}

function errText(row) {
  if (!Number.isFinite(row.err)) return `${row.err} WRONG`;
  return `${row.err.toExponential(1)}${row.wrong ? ` WRONG (tol ${row.tol.toExponential(1)})` : ''}`;
}

function printRows(rows, ceiling) {
  const table = new Table({
    head: [
      'row',
      'tile / loop',
      'GFLOP/s median (min–max)',
      '× ceil',
      'SIMD regs',
      'k loop as compiled',
      'jcc32',
      'max err',
    ],
    chars: COMPACT,
    style: { head: [], border: [] }, // no colours: the table is pasted into reports
    colAligns: ['left', 'left', 'right', 'right', 'left', 'left', 'left', 'right'],
  });
  for (const row of rows) {
    if (row.unavailable) {
      table.push([row.name, row.what, { colSpan: 6, content: `skipped: ${row.unavailable}` }]);
      continue;
    }
    table.push([
      row.name,
      row.what,
      `${fmtG(row.median)} (${fmtG(row.min)}–${fmtG(row.max)})`,
      (row.median / ceiling.median).toFixed(2),
      regsText(row),
      loopText(row.loop),
      row.loop ? (row.loop.jcc32 ? 'yes' : 'no') : '-',
      errText(row),
    ]);
  }
  console.log(table.toString());
}

/** Per shape: its best code layout, the layout as written (/p0), and which layouts have a 32-byte jump. */
function shapeSummaries(rows) {
  return VARIANTS.map((v) => {
    const mine = rows.filter((r) => r.shape === v.name && !r.wrong);
    if (mine.length === 0) return null;
    return {
      shape: v.name,
      what: mine[0].what,
      why: v.why,
      best: best(mine),
      asWritten: mine.find((r) => r.variant.pad === 0) ?? null,
      jccLayouts: mine.filter((r) => r.loop?.jcc32).map((r) => `p${r.variant.pad}`),
    };
  }).filter(Boolean);
}

function printShapes(shapes, ceiling) {
  const table = new Table({
    head: ['shape', 'tile', 'best layout: GFLOP/s', '× ceil', 'as written (p0)', '× ceil', 'jcc32 in', 'what for'],
    chars: COMPACT,
    style: { head: [], border: [] },
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'left', 'left'],
  });
  const sorted = [...shapes].sort((a, b) => b.best.median - a.best.median);
  for (const s of sorted) {
    const p0 = s.asWritten;
    table.push([
      s.shape,
      s.what,
      `${s.best.name.split('/')[1]}: ${fmtG(s.best.median)}`,
      (s.best.median / ceiling.median).toFixed(2),
      p0 ? fmtG(p0.median) : '-',
      p0 ? (p0.median / ceiling.median).toFixed(2) : '-',
      s.jccLayouts.join(' ') || '-',
      s.why,
    ]);
  }
  console.log(table.toString());
}

/** The summary lines: ceiling, chosen shape against 6×8, product gemm. */
function summary(rows, shapes, ceiling) {
  const pct = (r) => `${((100 * r.median) / ceiling.median).toFixed(0)}% of the ceiling`;
  const pair = (a, b) => {
    const p = paired(a, b);
    return `${p.ratio.toFixed(3)}× (median of per-round ratios; faster in ${p.faster} of ${p.rounds} rounds)`;
  };
  const lines = [`FMA ceiling: ${fmtG(ceiling.median)} GFLOP/s (${ceiling.name}, median of ${ceiling.gflops.length}).`];
  const ranked = [...shapes].sort((a, b) => b.best.median - a.best.median);
  const chosen = ranked[0];
  const base = shapes.find((s) => s.shape === BASELINE);
  const c = chosen.best;
  lines.push(`Chosen shape: ${chosen.shape} (${c.name}), ${fmtG(c.median)} GFLOP/s, ${pct(c)}.`);
  if (base && chosen !== base) {
    lines.push(
      `  vs ${BASELINE} in its best layout (${base.best.name}, ${fmtG(base.best.median)} GFLOP/s, ` +
        `${pct(base.best)}): ${pair(c, base.best)}`,
    );
  } else if (ranked[1]) {
    const next = ranked[1].best;
    lines.push(`  next best ${next.name}, ${fmtG(next.median)} GFLOP/s: ${c.name} is ${pair(c, next)}`);
  }
  if (base?.asWritten && base.asWritten !== c) {
    lines.push(
      `  vs ${BASELINE} as written (${base.asWritten.name}, ${fmtG(base.asWritten.median)} GFLOP/s, ` +
        `${pct(base.asWritten)}${base.asWritten.loop?.jcc32 ? ', a jump on a 32-byte boundary' : ''}): ` +
        pair(c, base.asWritten),
    );
  }
  const gemm = rows.find((r) => r.kind === 'gemm' && !r.unavailable);
  if (gemm) {
    const jcc = gemm.loop ? `; its 6×8 loop ${gemm.loop.jcc32 ? 'has' : 'has no'} jump on a 32-byte boundary` : '';
    lines.push(`Product gemm ${GEMM_SIZE}³: ${fmtG(gemm.median)} GFLOP/s, ${pct(gemm)}${jcc}.`);
  }
  return { lines, chosen, base };
}

const round = (x, digits = 5) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : null);

function jsonRow(row, ceiling) {
  const out = { name: row.name, kind: row.kind, what: row.what, why: row.why };
  if (row.unavailable) return { ...out, unavailable: row.unavailable };
  if (row.variant) {
    const { shape, mr, nr, a, unroll, pad } = row.variant;
    Object.assign(out, { shape, mr, nr, a_layout: a, unroll, padding_counters: pad, kc: KC });
  }
  return {
    ...out,
    gflops_median: round(row.median),
    gflops_min: round(row.min),
    gflops_max: round(row.max),
    fraction_of_ceiling: round(row.median / ceiling.median, 4),
    gflops_wall_median: round(median(row.gflopsWall)),
    gflops_samples: row.gflops.map((g) => round(g, 4)),
    reps_per_sample: row.reps,
    simd_registers_needed: row.regs,
    loop: row.loop,
    max_abs_err: round(row.err, 4),
    tolerance: round(row.tol, 4),
    wrong: row.wrong,
  };
}

/**
 * Run the suite. opts: { quick?: boolean, repeats?: number (samples per row), out?: string }.
 * Returns the exit code: 0 ok, 1 a row WRONG.
 */
export async function runSuite(opts = {}) {
  const t0 = performance.now();
  const quick = !!opts.quick;
  const settings = { ...(quick ? SETTINGS.quick : SETTINGS.full) };
  if (opts.repeats != null) settings.samples = opts.repeats;

  log('compiling the study with assemblyscript …');
  const { source, binary } = await compileStudy();
  mkdirSync(dirname(SOURCE_COPY), { recursive: true });
  writeFileSync(SOURCE_COPY, source);
  const code = analyseStudy(binary);
  if (code.error) log(`no loop code: ${code.error}`);
  const study = createStudy(binary);

  const rows = [...microkernelRows(study, code), ...ceilingRows(study, code), gemmRow()];
  const timed = rows.filter((r) => !r.unavailable);
  for (const row of rows.filter((r) => r.unavailable)) log(`skipped ${row.name}: ${row.unavailable}`);

  log(`warming up ${timed.length} rows …`);
  for (const row of timed) await calibrate(row, settings);
  log(`${settings.samples} round-robin rounds of ~${settings.sampleS * 1000} ms per row …`);
  await sampleRoundRobin(timed, settings.samples);

  for (const row of timed) {
    Object.assign(row, row.check());
    row.wrong = !(row.err <= row.tol);
  }

  const ceiling = best(rows.filter((r) => r.kind === 'ceiling'));
  const shapes = shapeSummaries(rows.filter((r) => r.kind === 'microkernel'));
  printRows(rows, ceiling);
  console.log(
    `KC ${KC}; ${settings.samples} samples of ~${settings.sampleS * 1000} ms CPU time per row, round-robin. ` +
      `SIMD regs: needed by the k loop / V8's ${SIMD_REGISTERS} allocatable xmm.\nk loop as compiled (TurboFan): ` +
      'FMAs, SIMD loads, stack accesses (spills/reloads), SIMD moves / all instructions; jcc32: a jump in it ' +
      'crosses or ends on a 32-byte boundary.\n',
  );
  printShapes(shapes, ceiling);
  const sum = summary(rows, shapes, ceiling);
  console.log(`\n${sum.lines.join('\n')}`);

  const json = {
    machine: machineInfo({
      suite: 'microkernel',
      quick,
      kc: KC,
      samples: settings.samples,
      sample_cpu_s: settings.sampleS,
      clock: 'process.cpuUsage (user + system)',
      tolerance: `${TOL_FACTOR}*sqrt(K)*max|ref|`,
      product_wasm: rows.find((r) => r.kind === 'gemm')?.unavailable ? null : PRODUCT_WASM,
      loop_code: code.error ?? 'node --no-liftoff --print-wasm-code (TurboFan)',
    }),
    ceiling: { name: ceiling.name, gflops_median: round(ceiling.median) },
    chosen: {
      shape: sum.chosen.shape,
      row: sum.chosen.best.name,
      gflops_median: round(sum.chosen.best.median),
      fraction_of_ceiling: round(sum.chosen.best.median / ceiling.median, 4),
    },
    shapes: shapes.map((s) => ({
      shape: s.shape,
      best_row: s.best.name,
      best_gflops_median: round(s.best.median),
      p0_gflops_median: s.asWritten ? round(s.asWritten.median) : null,
      jcc32_layouts: s.jccLayouts,
    })),
    summary: sum.lines,
    rows: rows.map((r) => jsonRow(r, ceiling)),
  };
  const outFile = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwrote ${outFile} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const bad = timed.filter((r) => r.wrong).map((r) => r.name);
  if (bad.length) {
    console.error(`microkernel: ${bad.length} row(s) WRONG: ${bad.join(', ')}`);
    return 1;
  }
  return 0;
}
