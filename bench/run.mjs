#!/usr/bin/env node
// Benchmark entry:
//   node --experimental-wasm-relaxed-simd bench/run.mjs <suite> [--quick] [--impl a,b] [--op matmul|conv2d] [--repeats N]
// A suite is a module bench/<suite>.mjs exporting `async runSuite(opts) -> exit code`; register it in SUITES.
import { Command, InvalidArgumentError } from 'commander';

const SUITES = {
  kernels: {
    load: () => import('./kernels.mjs'),
    summary: 'single-kernel matmul / conv2d GFLOP/s vs tfjs-wasm, onnxruntime-web, onnxruntime-node',
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
  .option('--quick', 'fewer repeats and shapes (under a minute)')
  .option('--impl <names>', 'comma-separated impls to time, e.g. wasm-relaxed,ort-node')
  .option('--op <op>', 'only this op (kernels: matmul | conv2d)')
  .option('--repeats <n>', 'timed samples per row (slow rows may get fewer)', positiveInt)
  .option('--out <file>', 'where to write the JSON results (default bench/results/<suite>.json)')
  .addHelpText('after', `\nSuites:\n${suiteList}\n`)
  .showHelpAfterError();

program.parse(process.argv);
const [suiteName] = program.args;
const opts = program.opts();

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
