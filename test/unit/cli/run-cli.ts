/** Running the built `layerhive` bin as a user does, for the CLI tests. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../../bin/layerhive.js', import.meta.url));

export interface Ended {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  wallS: number;
  afterOutputS: number;
}

/**
 * Runs `layerhive ...args` without blocking and reports how it ended: the wall time, and how long the process took
 * to exit after its last output (the work is done by then; what follows is releasing workers, devices, timers).
 * Killed (and reported as such) after `limitS` seconds.
 */
export function ends(limitS: number, ...args: string[]): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let last = t0,
      stdout = '',
      stderr = '';
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      last = performance.now();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      last = performance.now();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), limitS * 1000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const now = performance.now();
      resolve({ code, signal, stdout, stderr, wallS: (now - t0) / 1000, afterOutputS: (now - last) / 1000 });
    });
  });
}
