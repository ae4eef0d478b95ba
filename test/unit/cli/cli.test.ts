import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';

const bin = fileURLToPath(new URL('../../../bin/layerhive.js', import.meta.url));
const run = (...args: string[]) => execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', stdio: 'pipe' });

describe('layerhive CLI (built)', () => {
  it('info --json reports both backends and the wasm features', () => {
    const info = JSON.parse(run('info', '--json'));
    expect(info.engine.wasmSimd).toBe(true);
    expect(info.engine.wasmRelaxedSimd).toBe(true); // the bin turns on Node 20's relaxed-SIMD flag
    const wasm = info.backends.find((b: { name: string }) => b.name === 'wasm');
    expect(wasm).toMatchObject({ available: true, flavour: 'wasm-relaxed' });
    expect(wasm.kernels.simd).toBeGreaterThanOrEqual(10);
  });

  it('LAYERHIVE_NO_RELAXED_SIMD=1 falls back to plain SIMD', () => {
    const out = execFileSync(process.execPath, [bin, 'info', '--json'], { encoding: 'utf8', env: { ...process.env, LAYERHIVE_NO_RELAXED_SIMD: '1' } });
    expect(JSON.parse(out).backends.find((b: { name: string }) => b.name === 'wasm').flavour).toBe('wasm-simd');
  });

  it('--help works on every command', () => {
    expect(run('--help')).toMatch(/info.*\n.*demo/s);
    expect(run('info', '--help')).toContain('--json');
    expect(run('demo', '--help')).toContain('--batch');
  });

  it('an unknown command is an error that shows the help', () => {
    let stderr = '';
    try { run('fly'); } catch (e) { stderr = String((e as { stderr: string }).stderr); }
    expect(stderr).toMatch(/unknown command 'fly'/);
  });
});

describe('layerhive train / eval', () => {
  const dir = fileURLToPath(new URL('../../../.tmp/cli-train/', import.meta.url));

  it('trains, writes a checkpoint and a report, and eval reproduces the accuracy from the checkpoint', () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const out = run('train', '--rule', 'tpsgd', '--model', 'mlp', '--limit', '600', '--epochs', '1', '--batch', '16', '--lr', '5e-3',
      '--optimizer', 'adam', '--seed', '3', '--no-progress', '--out', `${dir}ck`, '--report', `${dir}report.json`);
    expect(out).toMatch(/epoch 1: train loss [\d.]+, test accuracy [\d.]+%/);
    const report = JSON.parse(readFileSync(`${dir}report.json`, 'utf8'));
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['rule', 'model', 'data', 'epochs', 'test_accuracy', 'wall_s', 'samples_per_s', 'peak_rss_mb']));
    expect(report).toMatchObject({ rule: 'tpsgd', model: 'mlp', data: 'mnist', epochs: 1 });
    expect(report.test_accuracy).toBeGreaterThan(0.5);
    const evaluated = JSON.parse(run('eval', '--model', `${dir}ck`, '--json'));
    expect(evaluated.test_accuracy).toBe(report.test_accuracy);
  });

  it('a truncated checkpoint, a missing data folder and a bad option are clear errors', () => {
    const fails = (...args: string[]) => { try { run(...args); } catch (e) { return String((e as { stderr: string }).stderr); } return 'no error'; };
    truncateSync(`${dir}ck/tensors.bin`, 100);
    expect(fails('eval', '--model', `${dir}ck`)).toMatch(/error: .*tensors.bin: tensor '.*' needs bytes .* but the data holds 100/);
    expect(fails('train', '--data', `${dir}nowhere`, '--limit', '10')).toMatch(/error: .*train-images-idx3-ubyte/);
    expect(fails('train', '--lr', '-1')).toMatch(/--lr must be a positive number/);
    expect(fails('train', '--rule', 'magic')).toMatch(/Allowed choices are backprop, tpsgd, noprop-dt/);
  });
});
