// The `unlearn` suite: SalUn and the paper's baselines (retrain, FT, GA, RL) on MNIST, as SalUn's tables report them.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs unlearn [--quick] [--rules backprop,tpsgd] [--limit N]
//        [--epochs N] [--batch B] [--out FILE]
//
// Per rule: a 784-512-512-10 tanh MLP trained on the first N MNIST training images (the learning suite's optimizer,
// cosine decay, batch 64, seed 1), then per scenario (random 10% of those N; every image of one class) each method
// runs from that trained model: UA = 1 − accuracy on the forget set, RA = accuracy on the retain set, TA = test
// accuracy (class-wise: on the test images of the other classes), MIA-Efficacy = share of the forget set a confidence
// threshold attack (fitted on retain = member vs test = non-member, as many of each) calls non-members, Avg. Gap =
// mean |method − Retrain| over those four, RTE = the method's wall seconds (SalUn's saliency and mask included).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  averageGap,
  createBackend,
  createRule,
  randomForgetIndices,
  releaseRule,
  splitByClass,
  splitByIndices,
  subset,
  train,
  unlearn,
  unlearningMetrics,
} from '../dist/index.js';
import { loadMnist } from '../dist/node.js';
import { machineInfo } from './machine.mjs';
import { NORMALIZATION } from './learning-settings.mjs';
import {
  BATCH,
  FULL,
  METHODS,
  QUICK,
  RULE_OVERRIDES,
  SCENARIOS,
  SEED,
  UNLEARN_RULES,
  methodSettings,
  ruleConfig,
} from './unlearn-settings.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = join(here, 'results', 'unlearn.json');
const pct = (v) => (100 * v).toFixed(2);

const cosine = (epochs, images, batch) => ({ type: 'cosine', totalSteps: epochs * Math.ceil(images / batch) });

async function scenarioRows(rule, config, s, trainSet, testSet, o) {
  const split =
    s.kind === 'class'
      ? splitByClass(trainSet, s.class)
      : splitByIndices(trainSet, randomForgetIndices(trainSet.count, s.fraction, SEED));
  const test = s.kind === 'class' ? splitByClass(testSet, s.class).retain : testSet;
  const sets = { forget: split.forget, retain: split.retain, test };
  const rows = [];
  const original = await unlearningMetrics(rule, sets, { normalization: NORMALIZATION });
  rows.push({ method: 'original', label: 'Original (taught everything)', ...original, gap: null, seconds: null });
  for (const [method, m] of Object.entries(methodSettings(config.rule, s.kind))) {
    const r = await unlearn(rule, {
      config,
      forget: split.forget,
      retain: split.retain,
      method,
      epochs: m.epochs ?? o.epochs,
      lr: m.lr,
      gamma: m.gamma,
      batchSize: o.batch,
      normalization: NORMALIZATION,
      retrain: {
        epochs: o.epochs,
        batchSize: o.batch,
        seed: SEED,
        lr: config.optimizer.lr,
        schedule: cosine(o.epochs, split.retain.count, o.batch),
      },
    });
    const metrics = await unlearningMetrics(r.rule, sets, { normalization: NORMALIZATION });
    releaseRule(r.rule);
    rows.push({ method, label: m.label, ...metrics, seconds: r.seconds });
    console.log(
      `  ${config.rule} · ${s.name} · ${m.label}: UA ${pct(metrics.ua)} RA ${pct(metrics.ra)} TA ${pct(metrics.ta)} ` +
        `MIA ${pct(metrics.mia)} in ${r.seconds.toFixed(1)} s`,
    );
  }
  const ref = rows.find((r) => r.method === 'retrain');
  for (const r of rows) r.gap = averageGap(r, ref);
  return { scenario: s.name, forget: split.forget.count, retain: split.retain.count, test: test.count, rows };
}

function printTable(rule, sc) {
  console.log(
    `\n${rule} — ${sc.scenario}: forget ${sc.forget}, retain ${sc.retain}, test ${sc.test} images (percent; RTE s)`,
  );
  const head = ['method', 'UA', 'RA', 'TA', 'MIA-Efficacy', 'Avg. Gap', 'RTE'];
  const lines = sc.rows.map((r) => [
    r.label,
    pct(r.ua),
    pct(r.ra),
    pct(r.ta),
    pct(r.mia),
    pct(r.gap),
    r.seconds === null ? '—' : r.seconds.toFixed(1),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l) => `| ${l.map((c, i) => (i ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ')} |`;
  console.log(fmt(head));
  console.log(`|${w.map((n, i) => (i ? `${'-'.repeat(n + 1)}:` : `:${'-'.repeat(n + 1)}`)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
}

export async function runSuite(opts = {}) {
  const base = opts.quick ? QUICK : FULL;
  const rules = opts.rules ? String(opts.rules).split(',') : UNLEARN_RULES;
  const unknown = rules.filter((r) => !UNLEARN_RULES.includes(r));
  if (unknown.length) {
    console.error(`unlearn: unknown --rules ${unknown.join(', ')}; rules: ${UNLEARN_RULES.join(', ')}`);
    return 2;
  }
  const o = {
    trainImages: Math.min(opts.limit ?? base.trainImages, 60000),
    testImages: base.testImages,
    epochs: opts.epochs ?? base.epochs,
    batch: opts.batch ?? BATCH,
  };
  const mnist = await loadMnist();
  const trainSet = subset(mnist.train, 0, o.trainImages);
  const testSet = subset(mnist.test, 0, o.testImages);
  const backend = await createBackend('wasm');
  console.log(
    `unlearn: MNIST, first ${o.trainImages} training images (${o.epochs} epochs, batch ${o.batch}), ` +
      `${o.testImages} test images, wasm backend`,
  );
  const results = [];
  for (const name of rules) {
    const config = ruleConfig(name);
    const rule = createRule(config, backend);
    const t0 = performance.now();
    const { epochs } = await train(rule, trainSet, testSet, {
      epochs: o.epochs,
      batchSize: o.batch,
      seed: SEED,
      lr: config.optimizer.lr,
      schedule: cosine(o.epochs, trainSet.count, o.batch),
      normalization: NORMALIZATION,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    console.log(`${name}: trained in ${trainSeconds.toFixed(1)} s, test accuracy ${pct(epochs.at(-1).testAccuracy)}%`);
    const scenarios = [];
    for (const s of SCENARIOS) scenarios.push(await scenarioRows(rule, config, s, trainSet, testSet, o));
    releaseRule(rule);
    results.push({ rule: name, config, trainSeconds, testAccuracy: epochs.at(-1).testAccuracy, scenarios });
  }
  for (const r of results) for (const sc of r.scenarios) printTable(r.rule, sc);
  const out = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  const json = {
    suite: 'unlearn',
    machine: machineInfo(),
    settings: { ...o, methods: METHODS, overrides: RULE_OVERRIDES },
    results,
  };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
  return 0;
}
