// The `kernels` suite: single-kernel matmul / conv2d throughput of layerhive's impls against peers.
//
// ── Impl interface ─────────────────────────────────────────────────────────────────────────────
//   Impl = {
//     name: string,                 // "js" | "wasm-simd" | "wasm-relaxed" | "wasm-relaxed-2t" (2 threads) | "webgpu"
//                                   // | "tfjs-wasm" | "ort-web-wasm" | "ort-web-wasm-2t" | "ort-node" | "ort-node-2t"
//     unavailable?: string,         // set instead of throwing to have the impl shown as a skipped row
//     matmul?(M, K, N, a: Float32Array /*[M,K] row-major*/, b: Float32Array /*[K,N] row-major*/): Promise<Runner>,
//     conv2d?(spec: { N, Cin, H, W, Cout, k, stride, pad },
//             x: Float32Array /*NCHW*/, w: Float32Array /*[Cout,Cin,k,k]*/): Promise<Runner>,  // no bias
//     model?(onnx: Uint8Array, x: Float32Array, shape: number[]): Promise<Runner>,  // a whole model's forward
//     dispose?(): void | Promise<void>,
//   }
//   Runner = {
//     run(): void | Promise<void>,                       // the timed part: compute with inputs already resident
//     output(): Float32Array | Promise<Float32Array>,    // result of the last run(): [M,N] row-major / NCHW; untimed
//     timeCalls?(n): Promise<number>,                    // optional: seconds for n run()s, measured where they run
//     dispose(): void,
//   }
//   The inputs passed to matmul()/conv2d() must not be modified. Setup (uploads, packing, layout transposes,
//   session creation) happens in matmul()/conv2d(), outside the timing.
//
// What the timed run() includes, per impl:
//   js, wasm-*, webgpu   layerhive's kernels (see bench/impls/layerhive.mjs); webgpu should include the
//                        readback or an awaited onSubmittedWorkDone so the work is really finished.
//   tfjs-wasm            tf.matMul / tf.conv2d (NHWC, transposed in setup) + dataSync() copy-out + dispose.
//   ort-web-wasm         session.run() with input tensors created once (conv: W is a model initializer,
//                        pre-packed at session creation); ORT's wasm EP copies the inputs into wasm memory
//                        and the output out on every run.
//   ort-node             session.run() with input tensors created once (read in place by the CPU EP; conv W
//                        an initializer), including the output allocation and the N-API round trip.
// ───────────────────────────────────────────────────────────────────────────────────────────────
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TIMING_PRESETS, measure, timeCalls } from './timing.mjs';
import { machineInfo } from './machine.mjs';
import { uniformArray, seedFrom } from './random.mjs';
import { loadImpls, KNOWN_IMPLS } from './impls/index.mjs';
import { referenceMatmul, referenceConv2d } from './reference.mjs';
import { printKernelTable } from './kernels-table.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const RESULTS_FILE = join(here, 'results', 'kernels.json');

export const OPS = ['matmul', 'conv2d', 'cnn'];

/** Error tolerance: max_abs_err <= TOL_FACTOR · √K · max|oracle| (K = reduction length). */
export const TOL_FACTOR = 1e-4;

/** Table/ratio order; impls not listed come after layerhive's, before the peers. */
const ORDER = [
  'js',
  'wasm-simd',
  'wasm-relaxed',
  'wasm-relaxed-2t',
  'webgpu',
  'tfjs-wasm',
  'ort-web-wasm',
  'ort-web-wasm-2t',
  'ort-node',
  'ort-node-2t',
];

const MATMUL_SHAPES = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [64, 784, 512],
  [128, 512, 512],
  [128, 512, 10],
];
const CONV_SHAPES = [
  // batch 64, 3×3, stride 1, pad 1
  { N: 64, Cin: 1, H: 28, W: 28, Cout: 32, k: 3, stride: 1, pad: 1 },
  { N: 64, Cin: 32, H: 14, W: 14, Cout: 64, k: 3, stride: 1, pad: 1 },
  { N: 64, Cin: 64, H: 7, W: 7, Cout: 128, k: 3, stride: 1, pad: 1 },
];

function convOut(s) {
  return {
    Hout: Math.floor((s.H + 2 * s.pad - s.k) / s.stride) + 1,
    Wout: Math.floor((s.W + 2 * s.pad - s.k) / s.stride) + 1,
  };
}

/**
 * The CNN forward at batch 64: layerhive's MNIST CNN (conv 3×3 32 → tanh → maxpool → conv 3×3 64 → tanh → maxpool →
 * dense 128 → tanh → dense 10; src/learn/models.ts) with seeded weights, exported to ONNX so every impl runs the same
 * file. FLOPs: the multiply-adds of its convolutions and dense layers, ×2.
 */
const CNN_BATCH = 64;
const CNN_FLOPS_PER_SAMPLE = 2 * (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 3136 * 128 + 128 * 10);
let cnnOnnx = null;
async function cnnModel() {
  if (cnnOnnx) return cnnOnnx;
  const lh = await import('../dist/index.js');
  const backend = await lh.createBackend('js');
  const rule = lh.createRule(
    {
      rule: 'backprop',
      model: 'cnn',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 11,
      optimizer: { type: 'sgd', lr: 0.1 },
    },
    backend,
  );
  cnnOnnx = await lh.exportOnnx(rule, { input: 'normalized' }); // the network alone: every impl computes the same
  rule.dispose();
  return cnnOnnx;
}

/** Every case of the suite: { op, shape (label), flops, K (reduction length), outLen, make(impl), reference() }. */
export function kernelCases({ quick = false, op = null } = {}) {
  const cases = [];
  if (!op || op === 'matmul') {
    for (const [M, K, N] of MATMUL_SHAPES) {
      if (quick && M * K * N >= 1024 ** 3) continue; // --quick drops 1024³
      const shape = `${M}x${K}x${N}`;
      const a = uniformArray(M * K, seedFrom(`matmul:${shape}:a`));
      const b = uniformArray(K * N, seedFrom(`matmul:${shape}:b`));
      cases.push({
        op: 'matmul',
        shape,
        flops: 2 * M * N * K,
        K,
        outLen: M * N,
        has: (impl) => typeof impl.matmul === 'function',
        make: (impl) => impl.matmul(M, K, N, a, b),
        reference: () => referenceMatmul(M, K, N, a, b),
      });
    }
  }
  if (!op || op === 'conv2d') {
    for (const spec of CONV_SHAPES) {
      const { Hout, Wout } = convOut(spec);
      const shape = `${spec.H}x${spec.W}x${spec.Cin}->${spec.Cout}`;
      const x = uniformArray(spec.N * spec.Cin * spec.H * spec.W, seedFrom(`conv2d:${shape}:x`));
      const w = uniformArray(spec.Cout * spec.Cin * spec.k * spec.k, seedFrom(`conv2d:${shape}:w`));
      cases.push({
        op: 'conv2d',
        shape,
        flops: 2 * spec.N * spec.Cout * Hout * Wout * spec.Cin * spec.k * spec.k,
        K: spec.Cin * spec.k * spec.k,
        outLen: spec.N * spec.Cout * Hout * Wout,
        has: (impl) => typeof impl.conv2d === 'function',
        make: (impl) => impl.conv2d({ ...spec }, x, w),
        reference: () => referenceConv2d(spec, x, w),
      });
    }
  }
  if (!op || op === 'cnn') {
    const shape = [CNN_BATCH, 1, 28, 28];
    const x = uniformArray(CNN_BATCH * 784, seedFrom('cnn:x'));
    cases.push({
      op: 'cnn',
      shape: `mnist-cnn b${CNN_BATCH}`,
      flops: CNN_BATCH * CNN_FLOPS_PER_SAMPLE,
      K: 32 * 9,
      outLen: CNN_BATCH * 10,
      has: (impl) => typeof impl.model === 'function',
      make: async (impl) => impl.model(await cnnModel(), x, shape),
      reference: () => {
        throw new Error('the cnn case has no reference of its own: the js impl is its oracle');
      },
    });
  }
  return cases;
}

function orderIndex(name) {
  const i = ORDER.indexOf(name);
  if (i >= 0) return i;
  return ORDER.indexOf('tfjs-wasm') - 0.5; // other layerhive impls: before the peers
}

function maxAbs(arr) {
  let m = 0;
  for (let i = 0; i < arr.length; i++) {
    const v = Math.abs(arr[i]);
    if (!(v <= m)) m = v; // NaN propagates
  }
  return m;
}

function maxAbsDiff(out, ref) {
  if (!out || out.length !== ref.length) return Infinity;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(out[i] - ref[i]);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

function errText(err) {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 160);
}

function round(x, digits) {
  if (!Number.isFinite(x)) return null;
  return Number(x.toPrecision(digits));
}

function log(msg) {
  process.stderr.write(`[kernels] ${msg}\n`);
}

/**
 * Run the suite. opts: { quick?: boolean, impl?: string (comma list), op?: string, repeats?: number, out?: string }.
 * Returns the process exit code (0 ok, 1 a row WRONG/failed, 2 bad arguments).
 */
export async function runSuite(opts = {}) {
  const quick = !!opts.quick;
  if (opts.op && !OPS.includes(opts.op)) {
    console.error(`kernels: unknown --op "${opts.op}"; ops: ${OPS.join(', ')}`);
    return 2;
  }
  const wanted = opts.impl
    ? new Set(
        String(opts.impl)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    : null;

  const t0 = performance.now();
  const { impls, skipped } = await loadImpls(wanted);
  if (wanted) {
    const known = new Set([...KNOWN_IMPLS, ...impls.map((i) => i.name), ...skipped.map((s) => s.name)]);
    const unknown = [...wanted].filter((n) => !known.has(n));
    if (unknown.length) {
      console.error(
        `kernels: unknown --impl ${unknown.map((n) => `"${n}"`).join(', ')}; impls: ${[...known].join(', ')}`,
      );
      await disposeAll(impls);
      return 2;
    }
  }
  const oracleImpl = impls.find((i) => i.name === 'js') ?? null;
  const timed = impls
    .filter((i) => !wanted || wanted.has(i.name))
    .sort((a, b) => orderIndex(a.name) - orderIndex(b.name));
  const skippedShown = skipped.filter((s) => !wanted || wanted.has(s.name));
  for (const s of skippedShown) log(`skipped ${s.name}: ${s.reason}`);
  if (!oracleImpl) log('no `js` impl: using bench/reference.mjs as the oracle');

  const preset = { ...(quick ? TIMING_PRESETS.quick : TIMING_PRESETS.full) };
  if (opts.repeats != null) preset.fixedRepeats = opts.repeats;

  const rows = [];
  let failed = false;
  for (const kc of kernelCases({ quick, op: opts.op })) {
    // Oracle: the `js` impl, computed once per shape (its run doubles as the js row's warm-up).
    let oracle;
    let jsRunner = null;
    let jsRunS = null;
    try {
      if (oracleImpl && kc.has(oracleImpl)) {
        jsRunner = await kc.make(oracleImpl);
        jsRunS = await timeCalls(() => jsRunner.run(), 1);
        oracle = Float32Array.from(await jsRunner.output());
      } else {
        oracle = kc.reference();
      }
    } catch (err) {
      log(`${kc.op} ${kc.shape}: oracle failed (${errText(err)}); using bench/reference.mjs`);
      jsRunner?.dispose?.();
      jsRunner = null;
      oracle = kc.reference();
    }
    const oracleMax = maxAbs(oracle);
    const tol = TOL_FACTOR * Math.sqrt(kc.K) * oracleMax;

    for (const impl of timed) {
      const base = { op: kc.op, shape: kc.shape, impl: impl.name };
      if (!kc.has(impl)) {
        rows.push({ ...base, skipped: `no ${kc.op}()` });
        continue;
      }
      let runner = null;
      try {
        let prior = null;
        if (impl === oracleImpl && jsRunner) {
          runner = jsRunner;
          jsRunner = null;
          prior = jsRunS;
        } else {
          runner = await kc.make(impl);
        }
        // a runner that times itself (a peer in another process) leaves the round trip to it out of the figure
        const time = runner.timeCalls ? (n) => runner.timeCalls(n) : undefined;
        const m = await measure(() => runner.run(), { ...preset, priorRunS: prior, time });
        const out = await runner.output();
        const err = maxAbsDiff(out, oracle);
        const wrong = !(err <= tol);
        if (wrong) failed = true;
        const g = (s) => kc.flops / s / 1e9;
        const row = {
          ...base,
          gflops_median: g(m.median),
          gflops_min: g(m.max),
          gflops_max: g(m.min),
          max_abs_err: err,
          tol,
          wrong,
          repeats: m.repeats,
          inner: m.inner,
        };
        rows.push(row);
        log(
          `${kc.op} ${kc.shape} ${impl.name}: ${row.gflops_median.toFixed(2)} GFLOP/s ` +
            `(${m.repeats}×${m.inner}, ${(m.median * 1e3).toFixed(3)} ms/call) ` +
            `err ${err.toExponential(2)}${wrong ? ' WRONG' : ''}`,
        );
      } catch (e) {
        failed = true;
        rows.push({ ...base, error: errText(e) });
        log(`${kc.op} ${kc.shape} ${impl.name}: FAILED ${errText(e)}`);
      } finally {
        try {
          runner?.dispose?.();
        } catch {}
      }
    }
    try {
      jsRunner?.dispose?.();
    } catch {}
  }
  await disposeAll(impls);

  const notes = impls.filter((i) => i.note).map((i) => i.note);
  const machine = machineInfo({ suite: 'kernels', quick, tolerance: `${TOL_FACTOR}*sqrt(K)*max|oracle|`, notes });
  printKernelTable(rows, skippedShown);
  for (const n of notes) console.log(n);

  const json = {
    machine,
    rows: rows
      .filter((r) => r.gflops_median !== undefined)
      .map((r) => ({
        op: r.op,
        shape: r.shape,
        impl: r.impl,
        gflops_median: round(r.gflops_median, 5),
        gflops_min: round(r.gflops_min, 5),
        gflops_max: round(r.gflops_max, 5),
        max_abs_err: round(r.max_abs_err, 4),
      })),
  };
  const outFile = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`);
  const wrongRows = rows.filter((r) => r.wrong || r.error);
  console.log(`\nwrote ${outFile} (${json.rows.length} rows) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (failed) {
    console.error(
      `kernels: ${wrongRows.length} row(s) WRONG or failed: ` +
        wrongRows.map((r) => `${r.op} ${r.shape} ${r.impl}`).join('; '),
    );
    return 1;
  }
  return 0;
}

async function disposeAll(impls) {
  for (const impl of impls) {
    try {
      await impl.dispose?.();
    } catch {}
  }
}
