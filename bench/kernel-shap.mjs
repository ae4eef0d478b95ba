// The `kernel-shap` suite: layerhive's sampled KernelSHAP against shap's KernelExplainer (l1_reg=False) at equal
// budgets of model calls, both measured against exact Shapley values by enumeration, on the same 16-feature networks.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs kernel-shap [--quick] [--out FILE]
//
// Each network is a seeded layerhive MLP (js backend) with one input x and one baseline; its 16 features are groups of
// inputs (`featureMask`). Its weights go to bench/kernel_shap_ref.py (in .venv-shap, made by tools/ensure-shap.mjs:
// shap 0.54.1 from PyPI), which computes the same forward in float64 numpy and hands shap the features' on/off vector
// as the instance (ones) against one background row (zeros), so shap's coalitions mean what layerhive's do. Exact
// values: layerhive's own exact mode (a budget of 2^16 − 2) for its runs, enumeration in numpy for shap's; the two
// agree to float32 rounding (printed). Per network and budget (256, 512, 1 024, 2 048 coalitions; + f(x),
// f(baseline) on both sides) S seeds each (32; --quick 8 and two networks): the RMS error over the 16 features, its
// mean ± standard error over the seeds for both, the ratio, and Welch's t-test (the seeds of the two sides are
// independent draws); "significant" is Holm's step-down over all rows at α = 0.05, a Stouffer z pools the rows.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import * as lh from '../dist/index.js';
import { ensureShap, SHAP_VERSION } from '../tools/ensure-shap.mjs';
import { machineInfo } from './machine.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = join(here, 'results', 'kernel-shap.json');
const log = (m) => process.stderr.write(`[kernel-shap] ${m}\n`);
const M = 16;
const BUDGETS = [256, 512, 1024, 2048];

/**
 * The networks: the unit test's `sixteen()` exactly (zero biases, as built), then MLPs with random biases whose 16
 * features are pairs, triples or interleaved quadruples of inputs.
 */
const NETS = [
  { name: 'tanh 16-32-32-3 (test)', act: 'tanh', inputs: 16, hidden: [32, 32], seed: 16, test: true, target: 0 },
  { name: 'tanh 32-64-32-3, pairs', act: 'tanh', inputs: 32, hidden: [64, 32], seed: 21, target: 0 },
  { name: 'relu 16-64-64-3', act: 'relu', inputs: 16, hidden: [64, 64], seed: 22, target: 1 },
  { name: 'relu 48-32-32-3, triples', act: 'relu', inputs: 48, hidden: [32, 32], seed: 23, target: 2 },
  { name: 'tanh 64-32-3, i mod 16', act: 'tanh', inputs: 64, hidden: [32], seed: 24, target: 0, interleaved: true },
];

async function buildNet(def, backend) {
  const layers = [];
  for (const units of def.hidden) layers.push({ type: 'dense', units }, { type: def.act });
  layers.push({ type: 'dense', units: 3 });
  const m = new lh.nn.Sequential({ input: [def.inputs], layers }, { backend, rng: new lh.Rng(def.seed) });
  const n = def.inputs;
  let x, base;
  if (def.test) {
    x = new lh.Rng(5).fillUniform(new Float32Array(M), -1.5, 1.5);
    base = new lh.Rng(6).fillUniform(new Float32Array(M), -0.5, 0.5);
  } else {
    const r = new lh.Rng(def.seed + 1000);
    const biases = {};
    for (const [name, t] of m.namedParams())
      if (name.endsWith('.bias')) biases[name] = r.fillNormal(new Float32Array(t.size), 0, 0.3);
    m.setParams(biases);
    x = r.fillUniform(new Float32Array(n), -1.5, 1.5);
    base = r.fillUniform(new Float32Array(n), -0.5, 0.5);
  }
  const per = n / M;
  const featureMask = Int32Array.from({ length: n }, (_, i) => (def.interleaved ? i % M : Math.floor(i / per)));
  // the weights as the Python side reads them: dense weight [in, out] row-major, bias [out]
  const params = m.namedParams();
  const exported = [];
  let width = n;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (l.type !== 'dense') {
      exported.push({ type: l.type });
      continue;
    }
    const w = params.get(`${i}.weight`),
      b = params.get(`${i}.bias`);
    exported.push({
      type: 'dense',
      in: width,
      out: l.units,
      weight: Array.from(await w.data()),
      bias: Array.from(await b.data()),
    });
    width = l.units;
  }
  return {
    model: m,
    x,
    base,
    featureMask,
    py: {
      name: def.name,
      layers: exported,
      x: Array.from(x),
      base: Array.from(base),
      featureMask: Array.from(featureMask),
      target: def.target,
    },
  };
}

const rms = (v) => Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const variance = (v) => {
  const m = mean(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
};
const sem = (v) => Math.sqrt(variance(v) / v.length);

/** ln Γ (Lanczos), for the t distribution's tail. */
function lnGamma(z) {
  const c = [
    676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  z -= 1;
  let a = 0.99999999999980993;
  for (let i = 0; i < 8; i++) a += c[i] / (z + i + 1);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes' betacf). */
function incompleteBeta(x, a, b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  let f = 1,
    c = 1,
    d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < 1e-300 ? 1e-300 : d);
  f = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < 1e-300 ? 1e-300 : d);
      c = 1 + num / c;
      if (Math.abs(c) < 1e-300) c = 1e-300;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-14) break;
  }
  return (front * f) / a;
}

/** Two-sided p of Student's t with ν degrees of freedom. */
const tTwoSided = (t, nu) => incompleteBeta(nu / (nu + t * t), nu / 2, 0.5);

/** Welch's t-test of mean(a) − mean(b). */
function welch(a, b) {
  const va = variance(a) / a.length,
    vb = variance(b) / b.length;
  const t = (mean(a) - mean(b)) / Math.sqrt(va + vb);
  const nu = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { t, df: nu, p: tTwoSided(t, nu) };
}

/** Standard normal's upper tail (Abramowitz–Stegun 7.1.26 through erfc). */
function normalUpper(z) {
  const x = Math.abs(z) / Math.SQRT2,
    k = 1 / (1 + 0.3275911 * x);
  const erfc =
    k *
    (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429)))) *
    Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export async function runSuite(opts) {
  const S = opts.quick ? 8 : 32;
  const nets = opts.quick ? NETS.slice(0, 2) : NETS;
  const seeds = Array.from({ length: S }, (_, s) => s);
  const python = ensureShap();
  const backend = await lh.createBackend('js');
  const built = [];
  for (const def of nets) built.push(await buildNet(def, backend));

  // shap's side first (one child process for everything)
  log(`shap ${SHAP_VERSION}: ${nets.length} networks × ${BUDGETS.length} budgets × ${S} seeds…`);
  let t0 = performance.now();
  const child = spawnSync(python, [join(here, 'kernel_shap_ref.py')], {
    input: JSON.stringify({ budgets: BUDGETS, seeds, nets: built.map((b) => b.py) }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`kernel_shap_ref.py exited ${child.status}`);
  const ref = JSON.parse(child.stdout);
  log(`shap side: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  t0 = performance.now();
  const rows = [];
  for (const [k, net] of built.entries()) {
    const def = nets[k],
      py = ref.nets[k];
    const opt = { method: 'kernel-shap', target: def.target, baseline: net.base, featureMask: net.featureMask };
    const exact = await lh.explain(net.model, net.x, { ...opt, samples: 2 ** M - 2 });
    if (!exact.exact) throw new Error(`${def.name}: a budget of 2^16 − 2 did not give exact values`);
    // one value per feature (its elements share it)
    const first = Array.from({ length: M }, (_, j) => net.featureMask.indexOf(j));
    const perFeature = (v) => first.map((i) => v[i]);
    const exactOurs = perFeature(exact.values);
    const agreement = Math.max(...exactOurs.map((v, j) => Math.abs(v - py.exact[j])));
    log(`${def.name}: exact RMS ${rms(exactOurs).toFixed(4)}, layerhive vs numpy max|Δ| ${agreement.toExponential(1)}`);
    for (const budget of BUDGETS) {
      const ours = [],
        reported = [],
        calls = [];
      for (const seed of seeds) {
        const a = await lh.explain(net.model, net.x, { ...opt, samples: budget, seed });
        if (a.exact) throw new Error(`${def.name}: budget ${budget} exact`);
        ours.push(rms(perFeature(a.values).map((v, j) => v - exactOurs[j])));
        reported.push(rms(perFeature(a.standardError)));
        calls.push(a.modelCalls);
      }
      const run = py.runs[String(budget)];
      const theirs = run.phi.map((phi) => rms(phi.map((v, j) => v - py.exact[j])));
      const test = welch(ours, theirs);
      rows.push({
        network: def.name,
        budget,
        seeds: S,
        exact_rms: rms(exactOurs),
        exact_agreement_max_abs: agreement,
        model_calls: { ours: Math.max(...calls), shap: Math.max(...run.model_calls) },
        ours: { mean: mean(ours), sem: sem(ours), per_seed: ours },
        shap: { mean: mean(theirs), sem: sem(theirs), per_seed: theirs },
        ratio: mean(ours) / mean(theirs),
        welch: test,
        ours_reported_se_over_actual: mean(reported) / mean(ours),
      });
    }
  }
  log(`layerhive side: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Holm's step-down over all rows
  const order = rows.map((r, i) => [r.welch.p, i]).sort((a, b) => a[0] - b[0]);
  let stop = false;
  order.forEach(([p, i], rank) => {
    const alpha = 0.05 / (rows.length - rank);
    if (!stop && p < alpha) rows[i].significant = true;
    else {
      stop = true;
      rows[i].significant = false;
    }
  });
  const verdict = (r) => (r.significant ? (r.ratio > 1 ? 'ours worse' : 'ours better') : 'no');
  const z = rows.reduce((a, r) => a + Math.sign(r.welch.t) * inverseNormalUpper(r.welch.p / 2), 0);
  const pooled = { stouffer_z: z / Math.sqrt(rows.length) };
  pooled.p_two_sided = 2 * normalUpper(Math.abs(pooled.stouffer_z));
  pooled.mean_ratio = mean(rows.map((r) => r.ratio));
  pooled.geometric_mean_ratio = Math.exp(mean(rows.map((r) => Math.log(r.ratio))));

  const f4 = (v) => v.toFixed(4);
  const table = new Table({
    head: [
      'network',
      'budget',
      'calls ours / shap',
      `ours RMS ± sem (${S})`,
      `shap RMS ± sem (${S})`,
      'ours ÷ shap',
      'Welch t',
      'p',
      'significant (Holm)',
      'ours SE ÷ err',
    ],
  });
  for (const r of rows)
    table.push([
      r.network,
      r.budget,
      `${r.model_calls.ours} / ${r.model_calls.shap}`,
      `${f4(r.ours.mean)} ± ${f4(r.ours.sem)}`,
      `${f4(r.shap.mean)} ± ${f4(r.shap.sem)}`,
      r.ratio.toFixed(3),
      r.welch.t.toFixed(2),
      r.welch.p < 1e-4 ? r.welch.p.toExponential(1) : r.welch.p.toFixed(4),
      verdict(r),
      r.ours_reported_se_over_actual.toFixed(2),
    ]);
  console.log(table.toString());
  console.log(
    `pooled over ${rows.length} rows (Stouffer, + = ours worse): z = ${pooled.stouffer_z.toFixed(2)}, ` +
      `p = ${pooled.p_two_sided.toFixed(4)}; ` +
      `geometric mean ratio ours ÷ shap ${pooled.geometric_mean_ratio.toFixed(3)}`,
  );
  const out = {
    suite: 'kernel-shap',
    machine: machineInfo(),
    settings: {
      features: M,
      budgets: BUDGETS,
      seeds: S,
      shap: ref.shap_version,
      numpy: ref.numpy_version,
      shap_call: 'KernelExplainer(f, zeros((1, 16))).shap_values(ones((1, 16)), nsamples=budget, l1_reg=False)',
      networks: nets.map(({ name, act, inputs, hidden, seed, target }) => ({
        name,
        act,
        inputs,
        hidden,
        seed,
        target,
      })),
    },
    pooled,
    rows,
  };
  const file = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${file}`);
  return 0;
}

/** z with upper tail p (bisection on normalUpper; p in (0, 1)). */
function inverseNormalUpper(p) {
  let lo = -40,
    hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (normalUpper(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
