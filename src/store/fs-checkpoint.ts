import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '../core/tensor.js';
import type { TypedArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { decodeTensors, encodeTensors, type TensorEntry } from './tensor-record.js';

const MANIFEST = 'checkpoint.json', DATA = 'tensors.bin', FORMAT = 'layerhive-checkpoint';

export interface CheckpointManifest<M> {
  format: typeof FORMAT;
  version: 1;
  meta: M;
  tensors: TensorEntry[];
}

async function writeDurably(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try { await fh.writeFile(bytes); await fh.sync(); } finally { await fh.close(); }
  await rename(tmp, path);
}

/**
 * A checkpoint directory: `tensors.bin` (the values) and `checkpoint.json` (what they are plus `meta`),
 * each written to a temporary name, synced and renamed; the manifest goes last, so a reader never sees
 * a manifest that points past the data.
 */
export async function saveCheckpoint<M>(dir: string, meta: M, tensors: ReadonlyMap<string, Tensor>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { index, data } = encodeTensors(tensors);
  await writeDurably(join(dir, DATA), data);
  const manifest: CheckpointManifest<M> = { format: FORMAT, version: 1, meta, tensors: index };
  await writeDurably(join(dir, MANIFEST), JSON.stringify(manifest, null, 1));
}

export async function loadCheckpoint<M>(dir: string): Promise<{ meta: M; tensors: Map<string, TypedArray> }> {
  let manifest: CheckpointManifest<M>;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8'));
  } catch (e) {
    return fail('DATA_INVALID', `no readable checkpoint in ${dir} (${(e as Error).message})`, 'pass the --out directory of a finished `layerhive train` run');
  }
  if (manifest.format !== FORMAT || manifest.version !== 1) {
    fail('DATA_INVALID', `${join(dir, MANIFEST)} is not a layerhive checkpoint (format ${JSON.stringify(manifest.format)})`, 'pass a directory written by `layerhive train`');
  }
  const data = new Uint8Array(await readFile(join(dir, DATA)));
  return { meta: manifest.meta, tensors: decodeTensors(manifest.tensors, data, join(dir, DATA)) };
}

