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
    `MNIST, ${s.train_images} training / ${s.test_images} test images, ${s.epochs} epoch(s), ` +
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
