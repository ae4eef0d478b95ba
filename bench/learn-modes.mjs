// The `learn-modes` suite: the app's three Learn modes (pwa/src/learn-modes.ts) measured in Chromium on this machine,
// as a person's Learn runs them: the built app (dist/pwa, served as `npm start` serves it) in Debian's Chromium,
// its two stage workers on wasm.
//
//   npm run bench -- learn-modes [--repeats N]
//
// The person: MNIST test digits mirrored left–right (a strong personal style the shipped models read badly), 5 of
// each digit taught (50 samples: the app keeps the 2nd of each aside, so 40 are learned from and 10 scored). Each
// mode runs in a fresh browser profile (empty IndexedDB, the shipped model): the mode chosen, the samples added, one
// Learn (the app's own `learn`: 6 epochs, batch 16, the samples repeated to ~300 plus 300 replay MNIST digits, over
// the two workers). Scored before and after by the app's own scorer on the workers: the 10 samples kept aside, 300
// more mirrored digits never taught, 500 plain MNIST test digits (forgetting), and the 300 replay digits.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { chromium } from 'playwright-core';
import { loadMnist } from '../dist/node.js';
import { findChromium } from '../tools/find-chromium.mjs';
import { machineInfo } from './machine.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const RESULTS_FILE = join(here, 'results', 'learn-modes.json');
const MODES = ['last-layer', 'tpsgd-all', 'noprop'];
const log = (m) => process.stderr.write(`[learn-modes] ${m}\n`);

const mirror = (px) => {
  const o = new Uint8Array(784);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) o[y * 28 + x] = px[y * 28 + 27 - x];
  return o;
};
/** `n` test digits from `from` on, as [pixels[], label] pairs, styled by `f`. */
const digits = (test, from, n, f = (p) => p) =>
  Array.from({ length: n }, (_, i) => [
    Array.from(f(test.images.subarray((from + i) * 784, (from + i + 1) * 784))),
    test.labels[from + i],
  ]);
/** 5 of each digit, taught in the order a person might: round by round through 0…9. */
function taughtSet(test) {
  const per = new Map();
  for (let i = 0; i < 2000; i++) {
    const l = test.labels[i];
    if (!per.has(l)) per.set(l, []);
    if (per.get(l).length < 5) per.get(l).push(i);
  }
  const out = [];
  for (let r = 0; r < 5; r++)
    for (let d = 0; d < 10; d++) {
      const i = per.get(d)[r];
      out.push([Array.from(mirror(test.images.subarray(i * 784, (i + 1) * 784))), d]);
    }
  return out;
}

/** The built app served by the CLI on a free port; its URL and a stop function. */
async function serve() {
  const p = spawn(process.execPath, [join(root, 'bin', 'layerhive.js'), 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    p.on('exit', (c) => reject(new Error(`layerhive serve exited (${c})`)));
    p.stdout.on('data', (d) => {
      const m = /http:\/\/\S+\//.exec(String(d));
      if (m) resolve(m[0]);
    });
  });
  return { url, stop: () => p.kill() };
}

/** One Learn in `mode` in a fresh profile: the figures the app measured, and the scores before and after. */
async function runMode(url, mode, sets) {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(root, '.tmp', 'bench-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: findChromium(),
    headless: true,
    args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(
      () =>
        /^ready|could not/.test(document.querySelector('lh-app')?.shadowRoot?.querySelector('.msg')?.textContent ?? ''),
      null,
      { timeout: 120_000 },
    );
    return await page.evaluate(
      async ({ mode, sets }) => {
        const app = document.querySelector('lh-app');
        const m = app.model;
        const samples = (pairs) => pairs.map(([p, label]) => ({ pixels: Uint8Array.from(p), label, at: 0 }));
        await m.setMode(mode);
        for (const [p, label] of sets.taught) await m.addSample(Uint8Array.from(p), label);
        const styled = samples(sets.styled),
          plain = samples(sets.plain);
        const pct = (s) => s.correct / s.total;
        const before = { styled: pct((await m.accuracy(styled)).mine), plain: pct((await m.accuracy(plain)).mine) };
        const t0 = performance.now();
        const r = await m.learn(() => undefined);
        const wall = (performance.now() - t0) / 1000;
        const after = { styled: pct((await m.accuracy(styled)).mine), plain: pct((await m.accuracy(plain)).mine) };
        return {
          mode,
          learn_s: r.figures.seconds,
          learn_wall_s: wall,
          kept_aside: { before: pct(r.before.mine), after: pct(r.after.mine), n: r.after.mine.total },
          styled_unseen: { before: before.styled, after: after.styled, n: styled.length },
          mnist_test: { before: before.plain, after: after.plain, n: plain.length },
          replay: { before: pct(r.before.replay), after: pct(r.after.replay), n: r.after.replay.total },
          samples_trained: r.figures.samples,
          stage_bytes: r.figures.stageBytes,
          stage_bytes_per_sample: r.figures.stageBytesPerSample,
          sync_bytes: r.figures.syncBytes,
          plan: r.figures.plan,
          version_meta: (await m.versions()).at(-1)?.meta,
        };
      },
      { mode, sets },
    );
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runSuite(opts) {
  const repeats = opts.repeats ?? 2;
  const { test } = await loadMnist();
  const sets = {
    taught: taughtSet(test),
    styled: digits(test, 5000, 300, mirror),
    plain: digits(test, 8000, 500),
  };
  const server = await serve();
  const runs = [];
  try {
    for (let r = 0; r < repeats; r++)
      for (const mode of MODES) {
        log(`${mode}, run ${r + 1} of ${repeats}`);
        const run = await runMode(server.url, mode, sets);
        log(`  ${run.learn_s.toFixed(1)} s; mirrored unseen ${run.styled_unseen.after}; mnist ${run.mnist_test.after}`);
        runs.push(run);
      }
  } finally {
    server.stop();
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = MODES.map((mode) => {
    const rs = runs.filter((x) => x.mode === mode);
    const score = (k) => ({
      n: rs[0][k].n,
      before: mean(rs.map((x) => x[k].before)),
      after: mean(rs.map((x) => x[k].after)),
    });
    return {
      mode,
      runs: rs.length,
      learn_s: mean(rs.map((x) => x.learn_s)),
      learn_s_min: Math.min(...rs.map((x) => x.learn_s)),
      learn_s_max: Math.max(...rs.map((x) => x.learn_s)),
      kept_aside: score('kept_aside'),
      styled_unseen: score('styled_unseen'),
      mnist_test: score('mnist_test'),
      replay: score('replay'),
      stage_bytes_per_sample: mean(rs.map((x) => x.stage_bytes_per_sample)),
      sync_bytes: mean(rs.map((x) => x.sync_bytes)),
      plan: rs[0].plan,
    };
  });
  const p = (x) => `${(100 * x).toFixed(1)}%`;
  const ba = (s) => `${p(s.before)} → ${p(s.after)}`;
  const table = new Table({
    head: [
      'mode',
      `Learn s (mean of ${repeats}; min–max)`,
      `kept aside (${rows[0].kept_aside.n})`,
      `mirrored, never taught (${rows[0].styled_unseen.n})`,
      `MNIST test (${rows[0].mnist_test.n})`,
      `replay MNIST (${rows[0].replay.n})`,
      'B/sample between workers',
      'synced MiB',
    ],
  });
  for (const r of rows)
    table.push([
      r.mode,
      `${r.learn_s.toFixed(1)} (${r.learn_s_min.toFixed(1)}–${r.learn_s_max.toFixed(1)})`,
      ba(r.kept_aside),
      ba(r.styled_unseen),
      ba(r.mnist_test),
      ba(r.replay),
      r.stage_bytes_per_sample.toFixed(0),
      (r.sync_bytes / 2 ** 20).toFixed(1),
    ]);
  console.log(table.toString());
  for (const r of rows) console.log(`${r.mode}:\n${r.plan}`);
  const out = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        suite: 'learn-modes',
        machine: machineInfo(),
        browser: findChromium(),
        settings: { repeats, taught: 50, kept_aside_per_digit: 1, style: 'MNIST test digits mirrored left-right' },
        rows,
        runs,
      },
      null,
      2,
    ),
  );
  log(`wrote ${out}`);
  return 0;
}
