#!/usr/bin/env node
// Benchmark entry:
//   node --experimental-wasm-relaxed-simd bench/run.mjs <suite> [--quick] [--impl a,b] [--op matmul|conv2d]
//     [--repeats N]
//   node --experimental-wasm-relaxed-simd bench/run.mjs learning [--quick] [--epochs N] [--rules a,b]
//     [--model mlp|cnn|rnn|gru] [--dataset mnist|fashion-mnist] [--setup paper] [--batch B] [--limit N]
// A suite is a module bench/<suite>.mjs exporting `async runSuite(opts) -> exit code`; register it in SUITES.
import { Command, InvalidArgumentError } from 'commander';

const SUITES = {
  kernels: {
    load: () => import('./kernels.mjs'),
    summary: 'single-kernel matmul / conv2d GFLOP/s vs tfjs-wasm, onnxruntime-web, onnxruntime-node',
  },
  scaling: {
    load: () => import('./scaling.mjs'),
    summary: 'training and pipelined inference over 1, 2, 3 stage workers (samples/s, bytes between workers, memory)',
  },
  explain: {
    load: () => import('./explain.mjs'),
    summary:
      'attribution methods: ms per MNIST image in-thread and over 1, 2 workers; BlockMNIST localisation per model',
  },
  'learn-modes': {
    load: () => import('./learn-modes.mjs'),
    summary: "the app's Learn modes in Chromium: time, accuracy kept aside / unseen / MNIST, bytes between workers",
  },
  'explain-batch': {
    load: () => import('./explain-batch.mjs'),
    summary: 'attributions: ms per image for a batch of 32 vs one at a time, in-thread and over 2 workers',
  },
  'onnx-import': {
    load: () => import('./onnx-import.mjs'),
    summary: 'PyTorch exports via loadOnnx: max|Δ| vs ORT and torch, import and predict ms vs onnxruntime, fine-tuning',
  },
  'kernel-shap': {
    load: () => import('./kernel-shap.mjs'),
    summary: "KernelSHAP's RMS error vs exact Shapley values at 256–2 048 calls, layerhive vs shap's KernelExplainer",
  },
  learning: {
    load: () => import('./learning.mjs'),
    summary: 'MNIST training per learning rule (accuracy, s/epoch, peak memory) vs backprop in tfjs-wasm',
  },
  unlearn: {
    load: () => import('./unlearn.mjs'),
    summary: 'SalUn vs retrain, FT, GA, RL on MNIST (random 10%, class-wise): UA, RA, TA, MIA-Efficacy, Avg. Gap, s',
  },
  'optimizer-state': {
    load: () => import('./optimizer-state.mjs'),
    summary: '32-bit vs 8-bit Adam on MNIST (backprop MLP, NoProp-DT MLP, CNN): state bytes, step ms, accuracy',
  },
  federated: {
    load: () => import('./federated.mjs'),
    summary: 'Flower 1.42 FedAvg vs FedProx, N layerhive clients on non-IID MNIST: accuracy, bytes, s per round',
  },
  microkernel: {
    load: () => import('./microkernel.mjs'),
    summary: 'relaxed-SIMD GEMM micro-kernel shapes (6×8, 4×8, 4×16, …): GFLOP/s and fraction of an FMA ceiling',
  },
};

function positiveInt(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const suiteList = Object.entries(SUITES)
  .map(([name, s]) => `  ${name.padEnd(10)} ${s.summary}`)
  .join('\n');

const program = new Command()
  .name('bench/run.mjs')
  .description('layerhive benchmarks')
  .argument('<suite>', `suite to run: ${Object.keys(SUITES).join(', ')}`)
  .option(
    '--quick',
    'kernels: fewer repeats and shapes (under a minute); learning: 4 000 images, 1 epoch, 1 000 test images',
  )
  .option('--impl <names>', 'comma-separated impls to time, e.g. wasm-relaxed,ort-node')
  .option(
    '--backend <name>',
    'kernels: time this layerhive backend only (js, wasm-simd, wasm-relaxed, webgpu; = --impl <name>); ' +
      'learning: wasm (default) or webgpu',
  )
  .option('--op <op>', 'only this op (kernels: matmul | conv2d)')
  .option('--repeats <n>', 'timed samples per row (slow rows may get fewer)', positiveInt)
  .option(
    '--epochs <n>',
    'learning: epochs (default 3; --quick 1); federated: local epochs per round (2; --quick 1)',
    positiveInt,
  )
  .option('--rules <names>', 'learning: comma-separated rules, e.g. backprop,tpsgd,tfjs (tfjs = the reference)')
  .option('--model <name>', 'learning: mlp | cnn | rnn | gru (NoProp: the block kind; default mlp)')
  .option('--dataset <name>', 'learning: mnist (default) | fashion-mnist')
  .option('--setup <name>', "learning: 'paper' = tpSGD's paper's rows, backprop and tpSGD (bench/learning-paper.mjs)")
  .option('--batch <n>', 'learning: batch size (default 64)', positiveInt)
  .option(
    '--limit <n>',
    'learning: first N training images (default 60000; --quick 4000); federated: images dealt out (6000; --quick 3000)',
    positiveInt,
  )
  .option('--part <name>', 'explain: timing | blockmnist (default both)')
  .option('--workers <list>', 'scaling: worker counts, e.g. 1,2,3 (default)')
  .option('--clients <n>', 'federated: layerhive clients (default 3)', positiveInt)
  .option('--rounds <n>', 'federated: Flower rounds per strategy (default 5; --quick 2)', positiveInt)
  .option('--alpha <x>', 'federated: Dirichlet α of the non-IID shards (default 0.3)')
  .option('--mu <x>', "federated: FedProx's proximal μ (default 0.1)")
  .option('--fedadam', 'federated: FedAdam as well, after FedAvg and FedProx')
  .option('--hidden <n>', 'federated: hidden units of the 784-N-10 tanh MLP (default 64)', positiveInt)
  .option('--rule <name>', "federated: the clients' learning rule, backprop (default) | tpsgd")
  .option('--out <file>', 'where to write the JSON results (default bench/results/<suite>.json)')
  .addHelpText('after', `\nSuites:\n${suiteList}\n`)
  .showHelpAfterError();

program.parse(process.argv);
const [suiteName] = program.args;
const opts = program.opts();
if (suiteNameArg() === 'kernels' && opts.backend && !opts.impl) opts.impl = opts.backend;

function suiteNameArg() {
  return program.args[0];
}

const suite = SUITES[suiteName];
if (!suite) {
  console.error(`error: unknown suite "${suiteName}". Suites:\n${suiteList}`);
  process.exit(2);
}

let code;
try {
  const mod = await suite.load();
  code = await mod.runSuite(opts);
} catch (err) {
  console.error(`bench ${suiteName} crashed:`, err);
  code = 1;
}
// Some peers (onnxruntime-web) can leave handles open; leave explicitly once stdout has drained.
process.stdout.write('', () => process.exit(code));
