import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fail } from '../core/errors.js';
import { loadImageFolder, type ImageFileEntry, type ImageFolderData, type ImageFolderOptions } from './image-folder.js';

// Node only (node:fs): walks an image folder on disk and hands its files to the browser-safe loadImageFolder.

/** Whether `dir` follows the image-folder convention: it has a `train` subfolder. */
export async function isImageFolder(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, 'train'))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Datasets from an image folder on disk (`dir/train/<class>/*.png|jpg`, optionally `dir/test/<class>/…`): see
 * loadImageFolder for the convention, the split and the errors, which name the files under `dir`.
 */
export async function readImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageFolderData> {
  if (!(await isImageFolder(dir)))
    fail('DATA_INVALID', `${dir} has no train/ folder`, 'an image folder holds train/<class>/*.png|jpg');
  const files: ImageFileEntry[] = [];
  for (const split of ['train', 'test']) {
    for (const path of await walk(join(dir, split))) {
      files.push({ path: relative(dir, path).split(sep).join('/'), bytes: () => readBytes(path) });
    }
  }
  return loadImageFolder(files, { root: dir, ...options });
}

/** Every file under `dir` (following no links), or none if it does not exist. */
async function walk(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    fail('DATA_INVALID', `cannot list ${dir}: ${(e as Error).message}`, 'check that the folder is readable');
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function readBytes(path: string): Promise<Uint8Array> {
  const buf = await readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
