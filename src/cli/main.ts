import { Command } from 'commander';
import Table from 'cli-table3';
import { collectInfo } from './info.js';
import { runDemo } from './demo.js';

const program = new Command();
program
  .name('layerhive')
  .description('Run, train and explain neural networks on your own device.')
  .showHelpAfterError();

program
  .command('info')
  .description('list the backends this runtime can use and what each supports (SIMD, relaxed SIMD, threads, WebGPU)')
  .option('--json', 'print JSON instead of a table')
  .action(async (opts: { json?: boolean }) => {
    const info = await collectInfo();
    if (opts.json) { console.log(JSON.stringify(info, null, 2)); return; }
    console.log(`runtime: ${info.engine.runtime}`);
    console.log(`wasm SIMD: ${info.engine.wasmSimd ? 'yes' : 'no'} · relaxed SIMD: ${info.engine.wasmRelaxedSimd ? 'yes' : 'no'} · threads (shared memory): ${info.engine.wasmThreads ? 'yes' : 'no'}`);
    console.log(`WebGPU: ${info.engine.webgpu}`);
    const t = new Table({ head: ['backend', 'available', 'runs as', 'kernels (SIMD / reference)', 'capabilities or reason'] });
    for (const b of info.backends) {
      t.push([b.name, b.available ? 'yes' : 'no', b.flavour ?? '—', b.kernels ? `${b.kernels.simd} / ${b.kernels.reference}` : '—',
        b.available ? Object.entries(b.capabilities ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ') : b.reason ?? '']);
    }
    console.log(t.toString());
  });

program
  .command('demo')
  .description('print `info`, then run one forward pass of a CNN on every backend and compare them')
  .option('--batch <n>', 'images per forward pass', (v) => Number.parseInt(v, 10), 16)
  .action(async (opts: { batch: number }) => {
    await program.parseAsync(['node', 'layerhive', 'info']);
    console.log(`\nForward pass of the NoProp image-path CNN (conv 32/64/128 + dense), batch ${opts.batch}, random weights and input:`);
    const t = new Table({ head: ['backend', 'ms', 'images/s', 'max |Δ| vs js'] });
    for (const r of await runDemo(opts.batch)) t.push([r.backend, r.ms.toFixed(1), r.imagesPerSecond.toFixed(0), r.maxAbsDiffVsJs.toExponential(1)]);
    console.log(t.toString());
    console.log('\nNext: `npm run bench -- kernels` compares the kernels with tfjs-backend-wasm and onnxruntime.');
  });

await program.parseAsync(process.argv);
