import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/layerhive.js', import.meta.url));
const run = (...args: string[]) => execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

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
