// Helpers of the `optimizer-state` suite (bench/optimizer-state.mjs): state bytes from saved slots, medians, the
// fused update timed alone, and the printed table.
import * as lh from '../dist/index.js';

export function log(msg) {
  process.stderr.write(`[optimizer-state] ${msg}\n`);
}

export function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Resident bytes of optimizer state from its saved slots: a `…codes` slot is held as bytes packed four to a word,
 * every other slot (float32 moments, block maxima) 4 B a value.
 */
export function stateBytes(slots) {
  let n = 0;
  for (const [k, v] of Object.entries(slots))
    n += k.endsWith('.codes') ? 4 * Math.ceil(v.data.length / 4) : 4 * v.data.length;
  return n;
}

/** The fused update alone: median ms of one step of each optimizer on a 784×512 weight (wasm, one thread). */
export async function updateTimes(quick) {
  const backend = await lh.createBackend('wasm', { threads: 1 });
  const n = 784 * 512,
    reps = quick ? 20 : 60;
  const rng = new lh.Rng(1);
  const p = lh.tensor(rng.fillUniform(new Float32Array(n), -0.1, 0.1), [784, 512], 'float32', backend);
  const g = lh.tensor(rng.fillUniform(new Float32Array(n), -1e-2, 1e-2), [784, 512], 'float32', backend);
  const out = [];
  for (const type of ['adam', 'adam8bit', 'adamw', 'adamw8bit']) {
    const opt = lh.createOptimizer({ type, lr: 1e-3 });
    const ms = [];
    for (let k = 0; k < reps; k++) {
      const t0 = performance.now();
      opt.step(new Map([['w', p]]), { w: g });
      ms.push(performance.now() - t0);
    }
    opt.dispose();
    out.push({ optimizer: type, values: n, medianMs: median(ms.slice(3)) });
  }
  p.dispose();
  g.dispose();
  backend.destroy?.();
  return out;
}

const mb = (b) => (b / 2 ** 20).toFixed(2);
const pct = (a) => (a * 100).toFixed(2);

export function printTable(rows, update, notes) {
  const head = [
    'model',
    'images×epochs',
    'state 32-bit MB',
    'state 8-bit MB',
    'ratio',
    'step 32 ms',
    'step 8 ms',
    'acc 32 %',
    'acc 8 %',
    'Δ points',
  ];
  const body = rows.map((r) => [
    r.model,
    `${r.trainImages}×${r.epochs}`,
    mb(r.full.stateBytes),
    mb(r.eight.stateBytes),
    r.bytesRatio.toFixed(3),
    r.full.medianStepMs?.toFixed(1) ?? '—',
    r.eight.medianStepMs?.toFixed(1) ?? '—',
    pct(r.full.testAccuracy),
    pct(r.eight.testAccuracy),
    (r.accuracyDiffPoints >= 0 ? '+' : '') + r.accuracyDiffPoints.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
  console.log('');
  console.log('state growth over the first step (backend bytes in use), 32-bit / 8-bit MB:');
  for (const r of rows)
    console.log(`  ${r.model}: ${mb(r.full.firstStepGrowthBytes)} / ${mb(r.eight.firstStepGrowthBytes)}`);
  console.log('');
  console.log(`the fused update alone, one ${update[0].values}-value weight (median ms):`);
  console.log(`  ${update.map((u) => `${u.optimizer} ${u.medianMs.toFixed(3)}`).join(' · ')}`);
  console.log('');
  for (const n of notes) console.log(`- ${n}`);
  const ok = rows.every((r) => r.bytesRatio <= 0.26),
    close = rows.filter((r) => Math.abs(r.accuracyDiffPoints) > 0.2).map((r) => r.model);
  const accuracy = close.length ? `NOT met for ${close.join(', ')}` : 'met on every row';
  const bytes = ok ? 'met on every row' : `NOT met for ${rows.filter((r) => r.bytesRatio > 0.26).map((r) => r.model)}`;
  console.log(`- targets: state ≤ 0.26× of 32-bit: ${bytes}; accuracy within 0.2 points: ${accuracy}`);
}
