// @module-tag js-oracle
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// README: `npx layerhive demo [--batch N]  # a CNN forward pass on each backend, compared with js`.
// src/cli/demo.ts runs the same CNN (same seeded weights and input) on every backend and reports the largest
// |Δ| of its softmax probabilities against js, the time of one pass and batch·1000/ms images per second.

const bin = fileURLToPath(new URL('../../../bin/layerhive.js', import.meta.url));
const BATCH = 4;
const args = ['demo', '--batch', String(BATCH)];
/** The demo takes ~10 s here (js and SwiftShader are the slow rows); 4 minutes means it hung. */
const LIMIT_S = 240;
/**
 * Softmax probabilities in [0, 1] after three conv layers and two dense ones in float32: the kernels (wasm relaxed
 * SIMD FMA, WebGPU shaders) sum in other orders than js, ~1e-7 apart; 1e-5 leaves a margin and still catches a
 * wrong kernel, which moves probabilities by far more.
 */
const MAX_DIFF = 1e-5;

function demo(): string {
  try {
    return execFileSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
      // no colours: the table is parsed
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      timeout: LIMIT_S * 1000,
      killSignal: 'SIGTERM',
    });
  } catch (e) {
    const err = e as Error & { code?: string; stderr?: string };
    if (err.code === 'ETIMEDOUT')
      throw new Error(`\`layerhive ${args.join(' ')}\` did not exit within ${LIMIT_S} s; stderr:\n${err.stderr ?? ''}`);
    throw new Error(`\`layerhive ${args.join(' ')}\` failed: ${err.message}\n${err.stderr ?? ''}`);
  }
}

interface Row {
  backend: string;
  cells: string[];
}

/** The rows of the table under the "Forward pass" heading (the first table is `info`'s). */
function forwardTable(out: string): Row[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  const text = out.replace(/\u001b\[[0-9;]*m/g, '');
  const at = text.indexOf('Forward pass');
  expect(at, 'the forward-pass heading').toBeGreaterThanOrEqual(0);
  const rows = text
    .slice(at)
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .map((l) =>
      l
        .split('│')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  expect(rows[0]).toEqual(['backend', 'ms', 'images/s', 'max |Δ| vs js']);
  return rows.slice(1).map((cells) => ({ backend: cells[0], cells }));
}

describe('layerhive demo (README: a CNN forward pass on each backend, compared with js)', () => {
  it(
    `--batch ${BATCH}: js, wasm and webgpu all run, agree with js within ${MAX_DIFF}, at images/s = batch·1000/ms`,
    () => {
      const out = demo();
      expect(out).toContain(`batch ${BATCH}, random weights and input`);
      const rows = forwardTable(out);
      const names = rows.map((r) => r.backend);
      // js first (the reference), then the wasm flavour and the WebGPU adapter (SwiftShader through `webgpu`)
      expect(names[0]).toBe('js');
      const wasm = rows.find((r) => /^wasm(-(plain|relaxed))?$/.test(r.backend));
      const webgpu = rows.find((r) => r.backend.startsWith('webgpu'));
      expect(wasm, `a wasm row in ${names.join(', ')}`).toBeDefined();
      expect(webgpu, `a webgpu row in ${names.join(', ')}`).toBeDefined();
      const report: string[] = [];
      for (const r of rows) {
        expect(r.cells.join(' '), `${r.backend} ran`).not.toMatch(/unavailable/);
        const [ms, ips, diff] = r.cells.slice(1).map(Number);
        expect(ms, `${r.backend} ms`).toBeGreaterThan(0);
        expect(Number.isFinite(ms), `${r.backend} ms is finite`).toBe(true);
        // the printed figures are rounded (ms to 0.1, images/s to an integer): images/s must be batch·1000/ms,
        // positive where that rounds to ≥ 1 (a pass slower than 8 s on a loaded machine prints 0)
        if ((BATCH * 1000) / ms >= 1) expect(ips, `${r.backend} images/s`).toBeGreaterThan(0);
        expect(ips, `${r.backend} images/s vs ${ms} ms`).toBeGreaterThanOrEqual(
          Math.floor((BATCH * 1000) / (ms + 0.05)) - 1,
        );
        expect(ips, `${r.backend} images/s vs ${ms} ms`).toBeLessThanOrEqual(
          Math.ceil((BATCH * 1000) / Math.max(ms - 0.05, 1e-9)) + 1,
        );
        expect(Number.isFinite(diff), `${r.backend} max |Δ| is a number`).toBe(true);
        if (r.backend === 'js') expect(diff, 'js against itself').toBe(0);
        else expect(diff, `${r.backend} max |Δ| vs js`).toBeLessThanOrEqual(MAX_DIFF);
        report.push(`${r.backend}: ${ms} ms, ${ips} images/s, max |Δ| ${diff}`);
      }
      console.log(report.join('\n'));
    },
    (LIMIT_S + 30) * 1000,
  );
});
