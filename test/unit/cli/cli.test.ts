import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import pngjs from 'pngjs';
import { createBackend, MNIST_NORMALIZATION, normalizePixels, restoreRule, tensor, tidy } from '../../../src/index.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { NoPropDT } from '../../../src/learn/noprop/dt.js';
import { bin, ends } from './run-cli.js';

const { PNG } = pngjs;

/**
 * Longest one command may run before it counts as hung (the test's own timeout cannot fire while a sync call
 * blocks).
 */
const COMMAND_LIMIT_S = 50;

/**
 * `layerhive ...args` and its stdout. A command still running after `limitS` seconds is stopped (SIGTERM, which the
 * bin passes on to the CLI process) and fails the test with an error naming it; a failing command throws as
 * execFileSync does (with its `stderr`).
 */
function runWith(o: { limitS?: number; env?: NodeJS.ProcessEnv }, ...args: string[]): string {
  const limitS = o.limitS ?? COMMAND_LIMIT_S;
  try {
    return execFileSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
      env: o.env,
      timeout: limitS * 1000,
      killSignal: 'SIGTERM',
    });
  } catch (e) {
    const err = e as Error & { code?: string; stderr?: string };
    if (err.code !== 'ETIMEDOUT') throw e;
    const what = `\`layerhive ${args.join(' ')}\` did not exit within ${limitS} s`;
    throw Object.assign(new Error(`${what}; its stderr:\n${err.stderr ?? ''}`), {
      stderr: `${err.stderr ?? ''}\n[${what}]`,
    });
  }
}
const run = (...args: string[]) => runWith({}, ...args);

/** The stderr of `layerhive ...args`, which is expected to fail; 'no error' when it succeeds. */
function fails(...args: string[]): string {
  try {
    run(...args);
  } catch (e) {
    return String((e as { stderr: string }).stderr);
  }
  return 'no error';
}

/** The first `n` MNIST test images, normalised as `layerhive eval` feeds them (MNIST_NORMALIZATION). */
async function testImages(n: number): Promise<Float32Array> {
  const { test } = await loadMnist();
  return normalizePixels(test.images.subarray(0, n * 784), MNIST_NORMALIZATION);
}

/**
 * The checkpoint restored in-process on the wasm backend, as `export` loads it: its logits on `x` ([n, 1, 28, 28])
 * and, for NoProp-DT, the z_0 its inference starts from (`initialNoise`, the draws `predict` uses).
 */
async function checkpointLogits(dir: string, x: Float32Array, n: number) {
  const { store, name } = FsCheckpointStore.at(dir);
  const backend = await createBackend('wasm');
  const rule = restoreRule(await store.load(name), backend);
  try {
    const logits = tidy(() => rule.predict(tensor(x, [n, 1, 28, 28], 'float32', backend)));
    const z0 = rule instanceof NoPropDT ? rule.initialNoise(n).z : undefined;
    const out = {
      logits: Float32Array.from((await logits.data()) as Float32Array),
      noise: z0 && Float32Array.from((await z0.data()) as Float32Array),
    };
    logits.dispose();
    z0?.dispose();
    return out;
  } finally {
    rule.dispose();
    backend.destroy?.();
  }
}

/** max |a − b| over equal-length arrays (Infinity when the lengths differ, NaN when a value is NaN). */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Row-wise argmax of [n, k] logits. */
const argmaxRows = (v: Float32Array, k: number) =>
  Array.from({ length: v.length / k }, (_, r) => {
    const row = v.subarray(r * k, (r + 1) * k);
    return row.indexOf(Math.max(...row));
  });

describe('layerhive CLI (built)', { tags: ['behaviour'] }, () => {
  it('info --json reports both backends and the wasm features', () => {
    const info = JSON.parse(run('info', '--json'));
    expect(info.engine.wasmSimd).toBe(true);
    expect(info.engine.wasmRelaxedSimd).toBe(true); // the bin turns on Node 20's relaxed-SIMD flag
    const wasm = info.backends.find((b: { name: string }) => b.name === 'wasm');
    expect(wasm).toMatchObject({ available: true, flavour: 'wasm-relaxed' });
    expect(wasm.kernels.simd).toBeGreaterThanOrEqual(10);
  });

  it('LAYERHIVE_NO_RELAXED_SIMD=1 falls back to plain SIMD', () => {
    const out = runWith({ env: { ...process.env, LAYERHIVE_NO_RELAXED_SIMD: '1' } }, 'info', '--json');
    expect(JSON.parse(out).backends.find((b: { name: string }) => b.name === 'wasm').flavour).toBe('wasm-simd');
  });

  it('--help works on every command', () => {
    expect(run('--help')).toMatch(/info.*\n.*demo/s);
    expect(run('info', '--help')).toContain('--json');
    expect(run('demo', '--help')).toContain('--batch');
  });

  it('an unknown command is an error that shows the help', () => {
    let stderr = '';
    try {
      run('fly');
    } catch (e) {
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/unknown command 'fly'/);
  });
});

describe('layerhive train / eval', () => {
  const dir = fileURLToPath(new URL('../../../.tmp/cli-train/', import.meta.url));
  /**
   * The two checkpoints the tests below use, trained once before them (so that any one test runs alone under -t):
   * `ck` (TP-SGD MLP) and `ck2` (NoProp-DT on two workers), each with its report. Each holds the training's stdout,
   * or the error it failed with, which the tests that need that checkpoint rethrow (the others still run).
   */
  let tpsgd: string | Error = new Error('not trained'),
    noprop: string | Error = new Error('not trained');
  const attempt = (f: () => string): string | Error => {
    try {
      return f();
    } catch (e) {
      return e as Error;
    }
  };
  /** The stdout of a training beforeAll ran; throws its error when it failed. */
  const trained = (r: string | Error): string => {
    if (r instanceof Error) throw r;
    return r;
  };
  /** The hook's limit: two commands, each stopped after COMMAND_LIMIT_S. */
  const TRAIN_BOTH_MS = 2 * COMMAND_LIMIT_S * 1000 + 10_000;
  beforeAll(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    tpsgd = attempt(() =>
      run(
        'train',
        '--rule',
        'tpsgd',
        '--model',
        'mlp',
        '--limit',
        '600',
        '--epochs',
        '1',
        '--batch',
        '16',
        '--lr',
        '5e-3',
        '--optimizer',
        'adam',
        '--seed',
        '3',
        '--no-progress',
        '--out',
        `${dir}ck`,
        '--report',
        `${dir}report.json`,
      ),
    );
    noprop = attempt(() =>
      run(
        'train',
        '--rule',
        'noprop-dt',
        '--blocks',
        '3',
        '--limit',
        '400',
        '--batch',
        '32',
        '--seed',
        '2',
        '--workers',
        '2',
        '--sync-every',
        '5',
        '--no-progress',
        '--out',
        `${dir}ck2`,
        '--report',
        `${dir}report2.json`,
      ),
    );
  }, TRAIN_BOTH_MS);

  it('trains, writes a checkpoint and a report, and eval reproduces the accuracy from the checkpoint', {
    tags: ['behaviour'],
  }, () => {
    const out = trained(tpsgd);
    expect(out).toMatch(/epoch 1: train loss [\d.]+, test accuracy [\d.]+%/);
    const report = JSON.parse(readFileSync(`${dir}report.json`, 'utf8'));
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining([
        'rule',
        'model',
        'data',
        'epochs',
        'test_accuracy',
        'wall_s',
        'samples_per_s',
        'peak_rss_mb',
      ]),
    );
    expect(report).toMatchObject({ rule: 'tpsgd', model: 'mlp', data: 'mnist', epochs: 1 });
    expect(report.test_accuracy).toBeGreaterThan(0.5);
    const evaluated = JSON.parse(run('eval', '--model', `${dir}ck`, '--json'));
    expect(evaluated.test_accuracy).toBe(report.test_accuracy);
  });

  it('train --workers 2 trains NoProp blocks on two worker threads, ' +
    'writes the plan into the report, and eval reloads it', { tags: ['behaviour'] }, () => {
    const out = trained(noprop);
    expect(out).toMatch(/independent over 2 worker\(s\)/);
    expect(out).toMatch(/between stages: 0\.0 MiB \(0 B\/sample\)/);
    const report = JSON.parse(readFileSync(`${dir}report2.json`, 'utf8'));
    expect(report.workers).toBe(2);
    expect(report.plan.stages.flatMap((s: { groups: string[] }) => s.groups).sort()).toEqual([
      'block1',
      'block2',
      'block3',
      'head',
    ]);
    expect(report.worker_peak_tensor_mb).toHaveLength(2);
    expect(JSON.parse(run('eval', '--model', `${dir}ck2`, '--json')).test_accuracy).toBe(report.test_accuracy);
  });

  it('explain writes input, heatmap and overlay PNGs and the raw attributions; explain-eval prints the metrics', {
    tags: ['behaviour'],
  }, () => {
    trained(tpsgd); // explains `ck`
    const out = run(
      'explain',
      '--model',
      `${dir}ck`,
      '--index',
      '3',
      '--method',
      'ig,occlusion,kernel-shap',
      '--samples',
      '64',
      '--out',
      `${dir}explain`,
    );
    expect(out).toMatch(/integrated-gradients: class \d, \d+ model calls, \d+ ms, delta/);
    const json = JSON.parse(readFileSync(`${dir}explain/attributions.json`, 'utf8'));
    expect(Object.keys(json.methods)).toEqual(['integrated-gradients', 'occlusion', 'kernel-shap']);
    expect(json.methods.occlusion.values).toHaveLength(784);
    expect(json.label).toBe(0); // test image 3 is a 0
    for (const f of ['input.png', 'integrated-gradients-heatmap.png', 'kernel-shap-overlay.png']) {
      const png = PNG.sync.read(readFileSync(`${dir}explain/${f}`));
      expect([png.width, png.height], f).toEqual([280, 280]);
    }
    const evalOut = JSON.parse(
      run(
        'explain-eval',
        '--model',
        `${dir}ck`,
        '--count',
        '2',
        '--methods',
        'saliency,ig',
        '--samples',
        '16',
        '--json',
      ),
    );
    expect(evalOut.rows.map((r: { method: string }) => r.method)).toEqual(['saliency', 'integrated-gradients']);
    expect(evalOut.rows[1].completeness_error).toBeLessThan(0.05);
    expect(evalOut.rows[0].completeness_error).toBeNull();
    expect(fails('explain', '--model', `${dir}ck`, '--method', 'grad-cam')).toMatch(
      /grad-cam needs convolutional layers/,
    ); // the tpsgd MLP has none
    expect(fails('explain', '--model', `${dir}ck`, '--method', 'magic')).toMatch(/unknown method "magic"/);
    expect(fails('explain', '--model', `${dir}ck`, '--index', '99999')).toMatch(
      /--index 99999 is outside the 10000 test images/,
    );
  });

  it("export writes an ONNX file that onnxruntime-node runs to the checkpoint's predictions", {
    tags: ['outside'],
  }, async () => {
    trained(tpsgd); // exports `ck` and `ck2`
    trained(noprop);
    expect(run('export', '--model', `${dir}ck`, '--out', `${dir}model.onnx`)).toMatch(
      /wrote .*model\.onnx \(\d+ bytes, opset 17, input \[N, 1, 28, 28\] → logits \[N, 10\]\)/,
    );
    const ort = await import('onnxruntime-node');
    // eight real test images: the file takes them as pixels v/255 (it normalises them itself, MNIST's mean and
    // std); the checkpoint's own logits come from them normalised as eval does
    const n = 8,
      x = await testImages(n),
      { test } = await loadMnist();
    const pixels = Float32Array.from(test.images.subarray(0, n * 784), (v) => v / 255);
    const input = new ort.Tensor('float32', pixels, [n, 1, 28, 28]);
    const session = await ort.InferenceSession.create(readFileSync(`${dir}model.onnx`));
    const out = await session.run({ input });
    await session.release();
    const mine = await checkpointLogits(`${dir}ck`, x, n);
    expect(out.logits.dims).toEqual([n, 10]);
    expect(maxAbsDiff(out.logits.data as Float32Array, mine.logits), 'tpsgd MLP logits').toBeLessThan(1e-4);
    expect(argmaxRows(out.logits.data as Float32Array, 10)).toEqual(argmaxRows(mine.logits, 10));
    // NoProp-DT: its inference unrolled, with z_0 as a second input; fed the z_0 the checkpoint's predict draws
    expect(run('export', '--model', `${dir}ck2`, '--out', `${dir}noprop.onnx`)).toMatch(
      /input \[N, 1, 28, 28\], noise \[N, 10\] \(z_0: N\(0, I\) draws\) → logits \[N, 10\]/,
    );
    const dt = await checkpointLogits(`${dir}ck2`, x, n);
    const np = await ort.InferenceSession.create(readFileSync(`${dir}noprop.onnx`));
    const o2 = await np.run({ input, noise: new ort.Tensor('float32', dt.noise!, [n, 10]) });
    await np.release();
    expect(o2.logits.dims).toEqual([n, 10]);
    expect(maxAbsDiff(o2.logits.data as Float32Array, dt.logits), 'NoProp-DT logits').toBeLessThan(1e-4);
    expect(argmaxRows(o2.logits.data as Float32Array, 10)).toEqual(argmaxRows(dt.logits, 10));
    // and back in: import the exported MLP as a checkpoint that eval scores like the original (the normalised-input
    // form, which eval's batches feed; the pixel form imports once import.ts skips the head, normalizationHead)
    expect(run('export', '--model', `${dir}ck`, '--out', `${dir}model-norm.onnx`, '--input', 'normalized')).toMatch(
      /input: normalised pixels/,
    );
    const norm = await ort.InferenceSession.create(readFileSync(`${dir}model-norm.onnx`));
    const o3 = await norm.run({ input: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
    await norm.release();
    expect(maxAbsDiff(o3.logits.data as Float32Array, mine.logits), 'normalised-input logits').toBeLessThan(1e-4);
    expect(run('import', `${dir}model-norm.onnx`, '--out', `${dir}imported`)).toMatch(
      /imported .*model-norm\.onnx as backprop \[1, 28, 28\] → 10 classes \(6 layers\) into .*imported version 1/,
    );
    expect(JSON.parse(run('eval', '--model', `${dir}imported`, '--json')).test_accuracy).toBe(
      JSON.parse(run('eval', '--model', `${dir}ck`, '--json')).test_accuracy,
    );
    writeFileSync(`${dir}junk.onnx`, 'not a model');
    expect(fails('import', `${dir}junk.onnx`, '--out', `${dir}junk`)).toMatch(/error: the bytes are not an ONNX model/);
  });

  it('a truncated checkpoint, a missing data folder and a bad option are clear errors', { tags: ['behaviour'] }, () => {
    trained(tpsgd); // truncates a copy of `ck` (still named 'ck'), so `ck` stays whole for any test after this one
    rmSync(`${dir}broken`, { recursive: true, force: true });
    cpSync(`${dir}ck`, `${dir}broken/ck`, { recursive: true });
    truncateSync(`${dir}broken/ck/v000001/records.bin`, 100);
    expect(fails('eval', '--model', `${dir}broken/ck`)).toMatch(
      /error: .*'ck' version 1: tensor 'param\/segment0\/[^']+' has 100 bytes, expected \d+ \(truncated\?\)/,
    );
    expect(fails('eval', '--model', `${dir}nothing`)).toMatch(/error: no checkpoint named 'nothing' in /);
    expect(fails('train', '--data', `${dir}nowhere`, '--limit', '10')).toMatch(/error: .*train-images-idx3-ubyte/);
    expect(fails('train', '--lr', '-1')).toMatch(/--lr must be a positive number/);
    expect(fails('train', '--rule', 'magic')).toMatch(/Allowed choices are backprop, tpsgd, noprop-dt/);
    expect(fails('train', '--workers', '0')).toMatch(/--workers must be a positive integer/);
    expect(fails('train', '--workers', '2', '--embedding', 'learned', '--limit', '64')).toMatch(
      /learned label embedding .* not independent/,
    );
  });
});

// needs no checkpoint from the describe above: it trains its own (small) one
describe('layerhive checkpoints / plan', { tags: ['behaviour'] }, () => {
  const dir = fileURLToPath(new URL('../../../.tmp/cli-resume/', import.meta.url));

  const resumeTitle =
    'train --out keeps a version per epoch; --resume continues the run; checkpoints lists, rolls back and prunes';
  it(resumeTitle, () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const args = ['train', '--rule', 'backprop', '--limit', '320', '--batch', '32', '--seed', '5', '--no-progress'];
    run(...args, '--epochs', '1', '--out', `${dir}ck3`);
    const out = run('train', '--resume', `${dir}ck3`, '--epochs', '3', '--no-progress', '--keep', '2');
    expect(out).toMatch(
      new RegExp(
        String.raw`resuming .*ck3 \(version 1, 1 epoch\(s\) done\): ` +
          String.raw`training backprop \(mlp\) on mnist: 320 images, 3 epoch\(s\), batch 32`,
      ),
    );
    expect(out).not.toMatch(/epoch 1:/);
    expect(out).toMatch(/epoch 2: [\s\S]*version 2 [\s\S]*epoch 3: [\s\S]*version 3 /);
    const versions = JSON.parse(run('checkpoints', `${dir}ck3`, '--json'));
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 3]); // --keep 2
    expect(versions[1].meta.run).toMatchObject({ epochsDone: 3, epochs: 3, batch: 32, seed: 5 });
    const rolled = JSON.parse(
      run('checkpoints', `${dir}ck3`, '--rollback', '2', '--json').replace(/^version .*\n/, ''),
    );
    expect(rolled.map((v: { version: number; rolledBackFrom?: number }) => [v.version, v.rolledBackFrom])).toEqual([
      [2, undefined],
      [3, undefined],
      [4, 2],
    ]);
    expect(JSON.parse(run('eval', '--model', `${dir}ck3`, '--json')).test_accuracy).toBe(
      versions[0].meta.run.testAccuracy,
    );
    expect(run('checkpoints', `${dir}ck3`, '--keep', '1')).toMatch(/deleted versions: 2, 3[\s\S]*copy of 2/);
    expect(fails('train', '--resume', `${dir}ck3`, '--epochs', '2')).toMatch(
      /has trained 2 of its epochs already .* pass --epochs above 2/,
    );
    expect(fails('eval', '--model', `${dir}ck3`, '--version', '9')).toMatch(
      /checkpoint 'ck3' has no version 9 .* versions: 4/,
    );
  });

  it('plan prints a balanced placement for each kind of rule', () => {
    const cut = ['--stage-threads', '1'];
    expect(run('plan', '--rule', 'noprop-dt', '--blocks', '4', '--workers', '2', ...cut)).toMatch(
      /noprop-dt: independent over 2 worker\(s\)[\s\S]*worker 0: [\s\S]*worker 1: /,
    );
    const plan = JSON.parse(run('plan', '--rule', 'tpsgd', '--workers', '3', '--json', ...cut));
    expect(plan).toMatchObject({ mode: 'pipeline', rule: 'tpsgd' });
    expect(plan.stages.map((s: { groups: string[] }) => s.groups)).toEqual([['segment0'], ['segment1'], ['segment2']]);
    expect(plan.stages.map((s: { threads: number }) => s.threads)).toEqual([1, 1, 1]);
    // by default placement may give a stage threads instead of a cut: every group placed once, 2 threads in all
    const auto = JSON.parse(run('plan', '--rule', 'tpsgd', '--workers', '2', '--json'));
    expect(auto.stages.flatMap((s: { groups: string[] }) => s.groups)).toEqual(['segment0', 'segment1', 'segment2']);
    expect(auto.stages.reduce((n: number, s: { threads: number }) => n + s.threads, 0)).toBe(2);
    expect(auto.cores).toBe(2);
  });
});

describe('every command ends on its own', { tags: ['behaviour'] }, () => {
  const dir = fileURLToPath(new URL('../../../.tmp/cli-exit/', import.meta.url));
  /** Seconds a command may take to exit after its last output: closing workers and a device takes well under one. */
  const GRACE_S = 5;

  it(
    'info, plan, train on workers and train failing after its workers started all exit soon after their last output',
    async () => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}a-file`, '');
      const cases: { args: string[]; code: number; out: RegExp }[] = [
        // collectInfo opens (and must close) a WebGPU device where an adapter exists
        { args: ['info'], code: 0, out: /webgpu/ },
        {
          args: ['plan', '--rule', 'noprop-dt', '--blocks', '3', '--workers', '2', '--stage-threads', '1'],
          code: 0,
          out: /independent over 2 worker\(s\)/,
        },
        {
          args: [
            'train',
            '--rule',
            'noprop-dt',
            '--blocks',
            '3',
            '--limit',
            '128',
            '--workers',
            '2',
            '--sync-every',
            '2',
            '--no-progress',
          ],
          code: 0,
          out: /between stages/,
        },
        // the workers trained an epoch, then the checkpoint cannot be written: they are closed on the error path too
        {
          args: [
            'train',
            '--rule',
            'noprop-dt',
            '--blocks',
            '3',
            '--limit',
            '64',
            '--workers',
            '2',
            '--no-progress',
            '--out',
            `${dir}a-file/ck`,
          ],
          code: 1,
          out: /epoch 1: [\s\S]*error: .*ENOTDIR/,
        },
        // the workers are started, then the configuration is refused
        {
          args: ['train', '--workers', '2', '--embedding', 'learned', '--limit', '64'],
          code: 1,
          out: /error: a learned label embedding/,
        },
      ];
      for (const c of cases) {
        const what = `layerhive ${c.args.join(' ')}`;
        const r = await ends(COMMAND_LIMIT_S, ...c.args);
        expect(
          r.signal,
          `${what} did not exit within ${COMMAND_LIMIT_S} s (stopped by the test); output:\n${r.stdout}${r.stderr}`,
        ).toBeNull();
        expect(r.code, `${what}: ${r.stderr}`).toBe(c.code);
        expect(r.stdout + r.stderr, what).toMatch(c.out);
        expect(
          r.afterOutputS,
          `${what} exited ${r.afterOutputS.toFixed(1)} s after its last output (${r.wallS.toFixed(1)} s in all)`,
        ).toBeLessThan(GRACE_S);
      }
    },
    6 * 60_000,
  );

  it('the bin passes a signal on to the CLI process and ends as it did: serve stops on SIGTERM', async () => {
    mkdirSync(`${dir}site`, { recursive: true });
    writeFileSync(`${dir}site/index.html`, '<!doctype html>');
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--dir', `${dir}site`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ended = new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (code, signal) => resolve([code, signal])),
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /at (http:\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      void ended.then(() => reject(new Error(`serve ended before it listened: ${out}`)));
    });
    expect((await fetch(url)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await ended).toEqual([null, 'SIGTERM']);
    await expect(fetch(url)).rejects.toThrow(); // the CLI process that listened is gone too
  });
});
