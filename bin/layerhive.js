#!/usr/bin/env node
// The CLI runs in a node started with the V8 flags it needs; V8 reads most of them only when it starts, so this
// file starts that node (once) unless it already is one:
// - --no-concurrent-recompilation: with JavaScript optimized on background threads, a process whose event loop
//   has emptied can deadlock on its way out (nodejs/node#54918: the main thread waits in NodePlatform::DrainTasks
//   for a TurboFan job that waits for the main thread to collect garbage). A `layerhive plan` sat in that futex
//   wait for 18 minutes after printing its plan; without background recompilation there is no such job.
// - --experimental-wasm-relaxed-simd: Node 20 validates relaxed SIMD only behind this flag, and the CLI wants the
//   fused multiply-add kernels. LAYERHIVE_NO_RELAXED_SIMD=1 keeps plain SIMD.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const flags = [
  '--no-concurrent-recompilation',
  ...(process.env.LAYERHIVE_NO_RELAXED_SIMD ? [] : ['--experimental-wasm-relaxed-simd']),
];

if (flags.every((f) => process.execArgv.includes(f))) {
  await import('../dist/cli.js');
} else {
  const child = spawn(
    process.execPath,
    [...process.execArgv, ...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // Ctrl-C, `kill`, a closed terminal: the CLI gets the signal and decides; this process waits for it to end
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of signals) process.on(s, forward);
  child.on('error', (e) => {
    for (const s of signals) process.off(s, forward);
    console.error(`error: cannot start ${process.execPath}: ${e.message}`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    // end the way the CLI ended: its exit code, or the signal that stopped it (re-raised with its default action)
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
}
