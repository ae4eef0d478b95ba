// Timing helpers: warm up, pick an inner repeat count so that one sample lasts at least
// `targetSampleS`, then take `repeats` samples with performance.now(). Per-run seconds are returned.
import { performance } from 'node:perf_hooks';

/** Defaults for a full run and for --quick. */
export const TIMING_PRESETS = {
  full: { repeats: 7, minRepeats: 3, targetSampleS: 0.05, warmupS: 0.2, rowBudgetS: 4 },
  quick: { repeats: 3, minRepeats: 1, targetSampleS: 0.025, warmupS: 0.04, rowBudgetS: 0.6 },
};

function isPromise(v) {
  return v !== null && typeof v === 'object' && typeof v.then === 'function';
}

/** Seconds for `n` back-to-back calls of fn (awaited when it returns a promise). */
export async function timeCalls(fn, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = fn();
    if (isPromise(r)) await r;
  }
  return (performance.now() - t0) / 1000;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Measure fn (one kernel call).
 * opts: repeats, minRepeats, targetSampleS, warmupS, rowBudgetS (see TIMING_PRESETS),
 *       fixedRepeats (from --repeats: sample count, still cut down for slow kernels but never below
 *       min(fixedRepeats, minRepeats)), priorRunS (a call already made, e.g. the oracle run, counted as warm-up),
 *       time (n → seconds for n calls, where the calls are timed elsewhere; default timeCalls(fn, n)).
 * Returns { median, min, max, samples, inner, repeats } in seconds per call.
 */
export async function measure(fn, opts) {
  const { targetSampleS, warmupS, rowBudgetS } = opts;
  const time = opts.time ?? ((n) => timeCalls(fn, n));
  // Warm-up: at least one call (two when fast), until warmupS has been spent.
  let spent = 0;
  let calls = 0;
  let per = Infinity;
  if (opts.priorRunS != null) {
    spent = opts.priorRunS;
    calls = 1;
    per = opts.priorRunS;
  }
  while (calls < 1 || (spent < warmupS && calls < 200) || (calls < 2 && per < targetSampleS)) {
    const t = await time(1);
    per = calls === 0 ? t : Math.min(per, t);
    spent += t;
    calls++;
  }
  // Inner repeat count: one sample >= targetSampleS.
  let inner = Math.max(1, Math.ceil(targetSampleS / Math.max(per, 1e-7)));
  if (inner > 1) {
    // Calibrate once with a real batch (single-call times overstate tiny kernels).
    const t = (await time(inner)) / inner;
    inner = Math.max(1, Math.ceil(targetSampleS / Math.max(t, 1e-7)));
    per = t;
  }
  const wanted = opts.fixedRepeats ?? opts.repeats;
  const floor = Math.min(wanted, opts.minRepeats);
  const affordable = Math.floor(rowBudgetS / (inner * per));
  const repeats = Math.max(floor, Math.min(wanted, affordable), 1);

  const samples = [];
  for (let r = 0; r < repeats; r++) samples.push((await time(inner)) / inner);
  return {
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    samples,
    inner,
    repeats,
  };
}
