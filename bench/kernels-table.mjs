// Console table for the kernels suite (cli-table3).
import Table from 'cli-table3';

const BASELINES = ['ort-web-wasm', 'ort-web-wasm-2t', 'ort-node'];

function fmtG(x) {
  if (!Number.isFinite(x)) return '-';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function fmtErr(row) {
  if (!Number.isFinite(row.max_abs_err)) return `${row.max_abs_err} WRONG`;
  const e = row.max_abs_err.toExponential(1);
  return row.wrong ? `${e} WRONG (tol ${row.tol.toExponential(1)})` : e;
}

// Long reasons (import errors with absolute paths) would stretch the table; the full text is on stderr.
function short(text, max = 72) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function ratio(row, rows, base) {
  const ref = rows.find((r) => r.op === row.op && r.shape === row.shape && r.impl === base && r.gflops_median);
  if (!ref || !row.gflops_median) return '-';
  return `${(row.gflops_median / ref.gflops_median).toFixed(2)}×`;
}

/** rows: measured / skipped / failed rows; skippedImpls: [{ name, reason }] for impls that did not load. */
export function printKernelTable(rows, skippedImpls = []) {
  const table = new Table({
    head: ['op', 'shape', 'impl', 'GFLOP/s median (min–max)', 'max_abs_err', ...BASELINES.map((b) => `vs ${b}`)],
    style: { head: [], border: [] }, // no colours: the table is pasted into reports
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right'],
  });
  let last = null;
  for (const row of rows) {
    const key = `${row.op} ${row.shape}`;
    const lead = key === last ? ['', ''] : [row.op, row.shape];
    last = key;
    if (row.skipped || row.error) {
      const what = short(row.skipped ? `skipped: ${row.skipped}` : `FAILED: ${row.error}`);
      table.push([...lead, row.impl, { colSpan: 4, content: what }]);
      continue;
    }
    table.push([
      ...lead,
      row.impl,
      `${fmtG(row.gflops_median)} (${fmtG(row.gflops_min)}–${fmtG(row.gflops_max)})`,
      fmtErr(row),
      ...BASELINES.map((b) => ratio(row, rows, b)),
    ]);
  }
  for (const s of skippedImpls) {
    table.push(['-', '-', s.name, { colSpan: 4, content: short(`skipped: ${s.reason}`) }]);
  }
  console.log(table.toString());
}
