// One run of the learning suite as a child process (bench/learning-child.mjs), and its result as a table row:
// shared by the default mode (bench/learning.mjs) and `--setup paper` (bench/learning-paper.mjs).
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'learning-child.mjs');

export function log(msg) {
  process.stderr.write(`[learning] ${msg}\n`);
}

export const round = (x, d = 4) => (x == null || !Number.isFinite(x) ? null : Number(x.toPrecision(d)));
const mb = (bytes) => bytes / 2 ** 20;

/** Runs one job in a child process; resolves { type: 'done'|'skipped'|'failed', ... }. */
export function runChild(job, onEpoch) {
  return new Promise((resolve) => {
    let final = null;
    const stderr = [];
    const child = fork(CHILD, [JSON.stringify(job)], {
      execArgv: process.execArgv, // keeps --experimental-wasm-relaxed-simd
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    child.stderr.on('data', (d) => {
      stderr.push(d);
      process.stderr.write(d);
    });
    child.on('message', (m) => {
      if (m.type === 'epoch') onEpoch(m.report);
      else final = m;
    });
    child.on('exit', (code, signal) => {
      if (final) return resolve(final.type === 'failed' ? { type: 'failed', error: final.error } : final);
      const tail = Buffer.concat(stderr).toString().trim().split('\n').slice(-1)[0] ?? '';
      resolve({
        type: 'failed',
        error: `child exited (${signal ?? `code ${code}`}) without a result${tail ? `: ${tail}` : ''}`,
      });
    });
  });
}

/**
 * Runs `job`, logging each epoch as `label`, and returns its row: `base` plus the figures (or `skipped` / `error`
 * with null figures).
 */
export async function runRow(job, base, label) {
  log(`${label}: training…`);
  const started = performance.now();
  const r = await runChild(job, (e) => {
    log(
      `${label} epoch ${e.epoch + 1}/${job.epochs}: test ${(e.testAccuracy * 100).toFixed(2)}%, ` +
        `${e.seconds.toFixed(1)} s, ${e.samplesPerSecond.toFixed(0)} samples/s, train loss ${e.trainLoss.toFixed(4)}`,
    );
  });
  const empty = { epochs: [], test_accuracy: null, peak_tensor_mb: null, peak_rss_mb: null };
  if (r.type === 'skipped') {
    log(`${label}: skipped (${r.reason})`);
    return { ...base, skipped: r.reason, ...empty };
  }
  if (r.type === 'failed') {
    log(`${label}: FAILED ${r.error}`);
    return { ...base, error: r.error, ...empty };
  }
  const res = r.result;
  const epochs = res.epochs.map((e) => ({
    epoch: e.epoch + 1,
    test_accuracy: round(e.testAccuracy, 5),
    seconds: round(e.seconds, 4),
    samples_per_s: round(e.samplesPerSecond, 4),
    train_loss: round(e.trainLoss, 5),
  }));
  log(
    `${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(peak tensor ${mb(res.peakTensorBytes).toFixed(1)} MB, peak RSS ${res.peakRssMb.toFixed(0)} MB)`,
  );
  return {
    ...base,
    epochs,
    test_accuracy: epochs.at(-1)?.test_accuracy ?? null,
    peak_tensor_mb: round(mb(res.peakTensorBytes), 4),
    peak_step_tensor_mb: round(mb(res.stepPeakTensorBytes), 4),
    ...(res.residentTensorBytes !== undefined
      ? {
          resident_tensor_mb: round(mb(res.residentTensorBytes), 4),
          step_working_tensor_mb: round(mb(res.stepPeakTensorBytes - res.residentTensorBytes), 4),
        }
      : {}),
    peak_rss_mb: round(res.peakRssMb, 4),
    rss_at_start_mb: round(res.rssStartMb, 4),
    params: res.params,
    steps: res.steps,
    backend: res.flavour,
    wall_s: round((performance.now() - started) / 1000, 4),
  };
}
