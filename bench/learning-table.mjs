// Console table (cli-table3) and markdown table for the learning suite. Both take the suite's result
// object { settings, rows, ratios } (the JSON written to bench/results/learning.json).
import Table from 'cli-table3';

const pct = (x) => (x == null ? '-' : `${(x * 100).toFixed(2)}%`);
const num = (x, d = 1) => (x == null || !Number.isFinite(x) ? '-' : x.toFixed(d));
const ratio = (x) => (x == null || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}×`);

function short(text, max = 90) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const HEAD = [
  'rule',
  'model',
  'impl',
  'test acc per epoch',
  'final acc',
  's/epoch',
  'samples/s',
  'peak tensor MB (steps)',
  'resident / step working MB',
  'peak RSS MB',
  'step working vs backprop',
];

function cells(row, ratios) {
  const ep = row.epochs;
  const sum = (k) => ep.reduce((s, e) => s + e[k], 0);
  const rel =
    row.impl === 'layerhive-wasm' && row.rule !== 'backprop' ? ratios.peak_tensor_vs_backprop?.[row.rule] : null;
  return [
    ep.map((e) => pct(e.test_accuracy)).join(' '),
    pct(row.test_accuracy),
    num(sum('seconds') / ep.length, 1),
    num(row.epochs.reduce((s, e) => s + e.samples_per_s, 0) / ep.length, 0),
    `${num(row.peak_tensor_mb, 1)} (${num(row.peak_step_tensor_mb, 1)})`,
    row.resident_tensor_mb != null ? `${num(row.resident_tensor_mb, 1)} / ${num(row.step_working_tensor_mb, 1)}` : '-',
    num(row.peak_rss_mb, 0),
    rel ? ratio(rel.step_working) : '-',
  ];
}

function ratioLines(ratios) {
  const lines = [];
  for (const [rule, r] of Object.entries(ratios.peak_tensor_vs_backprop ?? {})) {
    lines.push(
      `tensor memory ${rule} ÷ backprop: a step's working memory ${ratio(r.step_working)}; ` +
        `peak of the training steps ${ratio(r.steps)}; peak of the whole train() call ${ratio(r.whole)}`,
    );
  }
  if (ratios.tpsgd_minus_backprop_accuracy_pp != null) {
    lines.push(
      `accuracy tpsgd − backprop: ${ratios.tpsgd_minus_backprop_accuracy_pp >= 0 ? '+' : ''}` +
        `${ratios.tpsgd_minus_backprop_accuracy_pp.toFixed(2)} percentage points`,
    );
  }
  if (ratios.backprop_speed_vs_tfjs != null) {
    lines.push(
      `backprop speed vs tfjs-wasm = tfjs s/epoch ÷ layerhive s/epoch: ` +
        `${ratio(ratios.backprop_speed_vs_tfjs)} (> 1: layerhive faster)`,
    );
  }
  return lines;
}

export function printLearningTable(result) {
  const table = new Table({
    head: HEAD,
    style: { head: [], border: [] }, // no colours: the table is pasted into reports
    colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  for (const row of result.rows) {
    const lead = [row.rule, row.model, row.impl];
    if (row.skipped || row.error) {
      table.push([
        ...lead,
        { colSpan: HEAD.length - 3, content: short(row.skipped ? `skipped: ${row.skipped}` : `FAILED: ${row.error}`) },
      ]);
    } else {
      table.push([...lead, ...cells(row, result.ratios)]);
    }
  }
  console.log(table.toString());
  for (const l of ratioLines(result.ratios)) console.log(l);
}

export function learningMarkdown(result) {
  const s = result.settings;
  const m = result.machine;
  const out = [
    `# learning benchmark`,
    '',
    `${s.dataset.split(' ')[0]}, ${s.train_images} training / ${s.test_images} test images, ${s.epochs} epoch(s), ` +
      `batch ${s.batch}, model ${s.model}, seed ${s.seed}` +
      `${s.quick ? ' (--quick)' : ''}. ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date}.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
  ];
  for (const row of result.rows) {
    const lead = [row.rule, row.model, row.impl];
    const rest =
      row.skipped || row.error
        ? [row.skipped ? `skipped: ${row.skipped}` : `FAILED: ${row.error}`, ...Array(HEAD.length - 4).fill('')]
        : cells(row, result.ratios);
    out.push(`| ${[...lead, ...rest].map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  out.push('');
  for (const l of ratioLines(result.ratios)) out.push(`- ${l}`);
  out.push('', 'Per-rule settings:', '');
  for (const [rule, st] of Object.entries(s.rules)) out.push(`- ${rule}: \`${JSON.stringify(st)}\``);
  out.push('');
  return out.join('\n');
}

// `--setup paper`: one line per (dataset, model, rule), the paper's figure beside ours, then per (dataset, model)
// tpSGD − backprop in points and one step's tensor memory tpSGD ÷ backprop.
const PAPER_HEAD = [
  'dataset',
  'model',
  'run',
  'epochs',
  'test acc per epoch',
  'ours',
  'paper',
  's/epoch',
  'step peak MB',
  'resident / step working MB',
];

function paperCells(row, paper) {
  const ep = row.epochs;
  const fig = paper?.[row.label];
  return [
    String(ep.length),
    ep.map((e) => pct(e.test_accuracy)).join(' '),
    pct(row.test_accuracy),
    fig == null ? 'n/a*' : pct(fig),
    num(ep.reduce((s, e) => s + e.seconds, 0) / ep.length, 1),
    num(row.peak_step_tensor_mb, 2),
    row.resident_tensor_mb != null ? `${num(row.resident_tensor_mb, 2)} / ${num(row.step_working_tensor_mb, 2)}` : '-',
  ];
}

function paperRows(result) {
  const paperOf = (r) => result.settings.setups.find((s) => s.dataset === r.dataset && s.model === r.model)?.paper;
  return result.rows.map((r) => {
    const lead = [r.dataset, r.model, r.label];
    if (r.skipped || r.error) return { lead, note: r.skipped ? `skipped: ${r.skipped}` : `FAILED: ${r.error}` };
    return { lead, cells: paperCells(r, paperOf(r)) };
  });
}

function paperLines(result) {
  const sign = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
  const lines = result.comparisons.map(
    (c) =>
      `${c.dataset} ${c.model}, ${c.epochs} epoch(s): ` +
      `${c.label} − backprop ${sign(c.tpsgd_minus_backprop_pp)} points ` +
      `(paper: ${c.paper_tpsgd_minus_backprop_pp == null ? 'n/a*' : sign(c.paper_tpsgd_minus_backprop_pp)}; ` +
      `target ≥ ${c.target_gap_pp.toFixed(2)}: ${c.target_met ? 'met' : 'NOT met'}); one step's tensor memory ` +
      `${c.label} ÷ backprop: peak ${ratio(c.step_peak_vs_backprop)}, working ${ratio(c.step_working_vs_backprop)}`,
  );
  lines.push(
    "* the paper's per-row figures could not be reached (bench/learning-paper.md); " +
      `its claim: ${result.settings.paper.claim}`,
  );
  return lines;
}

export function printPaperTable(result) {
  const table = new Table({ head: PAPER_HEAD, style: { head: [], border: [] } });
  for (const r of paperRows(result)) {
    table.push(
      r.note ? [...r.lead, { colSpan: PAPER_HEAD.length - 3, content: short(r.note) }] : [...r.lead, ...r.cells],
    );
  }
  console.log(table.toString());
  for (const l of paperLines(result)) console.log(l);
}

export function paperMarkdown(result) {
  const s = result.settings;
  const m = result.machine;
  const out = [
    '# learning benchmark, tpSGD paper setup',
    '',
    `${s.paper.source}. ${s.train_images} training / ${s.test_images} test images, seed ${s.seed}` +
      `${m.quick ? ' (--quick)' : ''}. ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date}.`,
    '',
    `| ${PAPER_HEAD.join(' | ')} |`,
    `|${PAPER_HEAD.map(() => '---').join('|')}|`,
  ];
  for (const r of paperRows(result)) {
    const rest = r.note ? [r.note, ...Array(PAPER_HEAD.length - 4).fill('')] : r.cells;
    out.push(`| ${[...r.lead, ...rest].map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  out.push('');
  for (const l of paperLines(result)) out.push(`- ${l}`);
  out.push('', 'Setups:', '');
  for (const st of s.setups)
    out.push(`- ${st.dataset} ${st.model}: ${st.arch}, batch ${st.batch}; \`${JSON.stringify(st.runs)}\``);
  out.push('');
  return out.join('\n');
}
