#!/usr/bin/env node
// `npm run federated:demo`: a federation on this machine, loopback only. Flower's own SuperLink and the ServerApp of
// federated/app (`flwr run`, from .venv-flower, made by tools/ensure-flower.mjs), and N `layerhive federate`
// clients (the built CLI: run `npm run build` first), each on its own non-IID shard of MNIST. Prints the clients'
// lines as they come, then the global model's accuracy per round (Flower's aggregated evaluate: each client scores
// the global arrays on its own slice of the MNIST test set, weighted by its size).
//
//   node federated/demo.mjs [--clients 3] [--rounds 3] [--alpha 0.3] [--hidden 64] [--epochs 2] [--limit 6000]
//                           [--strategy fedavg|fedprox|fedadam] [--mu 0.1]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureFlower } from '../tools/ensure-flower.mjs';
import { startFlower } from './local-flower.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// LAYERHIVE_BIN: another build of the CLI (a bin/layerhive.js beside its dist/)
const bin = process.env.LAYERHIVE_BIN ?? join(root, 'bin/layerhive.js');
const { values: a } = parseArgs({
  options: {
    clients: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    alpha: { type: 'string', default: '0.3' },
    hidden: { type: 'string', default: '64' },
    epochs: { type: 'string', default: '2' },
    limit: { type: 'string', default: '6000' },
    seed: { type: 'string', default: '7' },
    strategy: { type: 'string', default: 'fedavg' },
    mu: { type: 'string', default: '0.1' },
  },
});
const clients = Number(a.clients);
const rounds = Number(a.rounds);
if (!(Number.isInteger(clients) && clients >= 1 && Number.isInteger(rounds) && rounds >= 1)) {
  console.error('--clients and --rounds must be positive integers');
  process.exit(2);
}
if (!existsSync(join(bin, '../../dist/cli.js'))) {
  console.error('the built CLI (dist/cli.js) is missing: run `npm run build` first');
  process.exit(1);
}

ensureFlower();
const work = mkdtempSync(join(tmpdir(), 'layerhive-demo-'));
const model = ['--rule', 'backprop', '--model', 'mlp', '--hidden', a.hidden, '--seed', a.seed];
/** `layerhive ...args` as a child process; each output line goes to onLine; `exit` resolves with its code. */
const cli = (args, onLine) => {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let rest = '';
  const lines = (d) => {
    rest += d;
    const parts = rest.split('\n');
    rest = parts.pop();
    for (const l of parts) onLine(l);
  };
  child.stdout.on('data', lines);
  child.stderr.on('data', lines);
  const exit = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (rest) onLine(rest);
      resolve(code);
    });
  });
  return { child, exit };
};

const init = join(work, 'init');
const initArgs = ['federate', '--server', 'http://127.0.0.1:1', '--shard', '0/1', ...model, '--write-initial', init];
const written = cli(initArgs, (l) => console.log(l));
if ((await written.exit) !== 0) {
  console.error('layerhive federate --write-initial failed');
  process.exit(1);
}

console.log(`starting a Flower ${a.strategy} federation: SuperLink on loopback, ${clients} layerhive clients`);
const flower = await startFlower();
const children = [];
const active = new Set();
const exits = [];
for (let i = 0; i < clients; i++) {
  const args = ['federate', '--server', flower.server, '--shard', `${i}/${clients}`, '--non-iid', a.alpha];
  const c = cli([...args, ...model, '--limit', a.limit], (l) => {
    if (/registered and active/.test(l)) active.add(i);
    console.log(`[client ${i}] ${l}`);
  });
  exits.push(c.exit);
  children.push(c.child);
}
let failed = false;
const finish = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
};
process.once('SIGINT', () => {
  failed = true;
  finish();
});
try {
  const t0 = Date.now();
  while (active.size < clients) {
    if (Date.now() - t0 > 120_000) throw new Error('the clients did not register within 120 s');
    if (children.some((c) => c.exitCode !== null)) throw new Error('a client stopped before the run');
    await new Promise((r) => setTimeout(r, 200));
  }
  const out = join(work, 'out');
  flower.run({
    'init-dir': init,
    'out-dir': out,
    'num-server-rounds': rounds,
    'min-nodes': clients,
    'local-epochs': Number(a.epochs),
    strategy: a.strategy,
    'proximal-mu': Number(a.mu),
  });
  while (!existsSync(join(out, 'summary.json'))) {
    if (failed) throw new Error('stopped');
    if (Date.now() - t0 > 30 * 60_000)
      throw new Error(`no result after 30 min:\n${flower.superlinkLog().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  finish();
  await Promise.all(exits);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const ends = new Map(summary.rounds.map((r) => [String(r.round), r.t]));
  console.log(
    `\n${summary.strategy}${summary.strategy === 'fedprox' ? ` (μ=${a.mu})` : ''}, ${clients} clients, ` +
      `non-IID α=${a.alpha}, MLP 784-${a.hidden}-10, ${a.epochs} local epoch(s):`,
  );
  const rows = [['round', 'global accuracy', 'mean local train loss', 'round ends (s)']];
  for (const [r, m] of Object.entries(summary.evaluate)) {
    const train = summary.train[r] ?? {};
    rows.push([
      r,
      `${(100 * m.accuracy).toFixed(1)}%`,
      train.loss !== undefined ? train.loss.toFixed(4) : '—',
      ends.has(r) ? ends.get(r).toFixed(1) : '—',
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const [k, row] of rows.entries()) {
    console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
    if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log("(global accuracy: the global model on the clients' test slices, Flower's weighted aggregate)");
} catch (e) {
  failed = true;
  console.error(`demo failed: ${e.message}`);
} finally {
  finish();
  await Promise.all(exits);
  flower.stop();
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
