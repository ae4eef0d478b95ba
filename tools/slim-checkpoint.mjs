// Drops the optimizer moments from the newest version of a checkpoint folder and saves the weights alone (int8) as
// the next version, keeping only it: the app starts each personalisation with a fresh optimizer, so the moments
// (two 8-bit copies of the weights, two thirds of the file) would only make its download three times larger.
//   node tools/slim-checkpoint.mjs pwa/base-model-noprop        (after `npm run build`, which writes dist/)
import { basename, dirname, resolve } from 'node:path';
import { FsCheckpointStore } from '../dist/node.js';

const folder = process.argv[2];
if (!folder) {
  console.error('usage: node tools/slim-checkpoint.mjs <checkpoint folder>');
  process.exit(2);
}
const store = new FsCheckpointStore(dirname(resolve(folder))),
  name = basename(resolve(folder));
const ck = await store.load(name);
const groups = Object.fromEntries(
  Object.entries(ck.groups).map(([g, s]) => [g, { ...s, optimizer: { ...s.optimizer, slots: {} } }]),
);
const { info: _info, skipped: _skipped, ...rest } = ck;
const v = await store.save(name, { ...rest, groups }, { keep: 1, quantize: { weights: true } });
console.log(
  `${name} version ${v.version}: ${(v.bytes / 2 ** 20).toFixed(2)} MiB of weights (int8), no optimizer state`,
);
