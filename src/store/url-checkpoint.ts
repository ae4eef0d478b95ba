import { fail } from '../core/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { decodeCheckpoint, FORMAT, splitRecords, type Manifest } from './codec.js';

/**
 * A checkpoint version served over HTTP in the file layout (`<url>/manifest.json` and `<url>/records.bin`, as
 * `layerhive train --out` writes them), checked like any stored one: how an app ships its base model.
 */
export async function fetchCheckpoint(
  url: string,
  fetcher: typeof fetch = fetch,
): Promise<Checkpoint & { manifest: Manifest }> {
  const base = url.endsWith('/') ? url : `${url}/`;
  const get = async (file: string) => {
    const r = await fetcher(`${base}${file}`);
    if (!r.ok)
      fail(
        'NOT_FOUND',
        `${base}${file}: HTTP ${r.status}`,
        'serve the version folder (manifest.json and records.bin) of a checkpoint',
      );
    return r;
  };
  const manifest = (await (await get('manifest.json')).json()) as Manifest;
  if (manifest.format !== FORMAT || manifest.formatVersion !== 2)
    fail(
      'DATA_INVALID',
      `${base}manifest.json is not a layerhive checkpoint`,
      'serve a folder written by `layerhive train --out`',
    );
  const data = new Uint8Array(await (await get('records.bin')).arrayBuffer());
  return { ...(await decodeCheckpoint(manifest, splitRecords(manifest, data), base)), manifest };
}
