import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from '../core/errors.js';
import { splitRecords, type Manifest } from './codec.js';
import { checkName, VersionedStore, type SaveOptions } from './store.js';

const MANIFEST = 'manifest.json',
  RECORDS = 'records.bin';
const VERSION_DIR = /^v(\d{6,})$/;
const dirOf = (v: number) => `v${String(v).padStart(6, '0')}`;

async function writeSynced(path: string, bytes: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Checkpoints in a directory: `<root>/<name>/v000001/` holds `records.bin` (every tensor's bytes, in manifest
 * order) and `manifest.json`. A version is written into a temporary directory, each file fsynced, then renamed
 * into place in one step, so a crash or kill at any point leaves only complete versions (and a temporary
 * directory the next save removes).
 */
export class FsCheckpointStore extends VersionedStore {
  protected readonly where: string;

  constructor(readonly root: string) {
    super();
    this.where = resolve(root);
  }

  /** The store and name for a checkpoint path as the CLI takes it: `runs/mnist` is name `mnist` in `runs/`. */
  static at(path: string): { store: FsCheckpointStore; name: string } {
    const name = basename(resolve(path));
    checkName(name);
    return { store: new FsCheckpointStore(dirname(resolve(path))), name };
  }

  async names(): Promise<string[]> {
    const out: string[] = [];
    for (const d of await readdir(this.root, { withFileTypes: true }).catch(() => [])) {
      if (d.isDirectory() && (await this.versionDirs(d.name)).length) out.push(d.name);
    }
    return out.sort();
  }

  private async versionDirs(name: string): Promise<number[]> {
    const entries = await readdir(join(this.root, name)).catch(() => [] as string[]);
    return entries.flatMap((e) => {
      const m = VERSION_DIR.exec(e);
      return m ? [Number(m[1])] : [];
    });
  }

  protected async manifests(name: string): Promise<Manifest[]> {
    return Promise.all(
      (await this.versionDirs(name)).map(async (v) => {
        try {
          const m = JSON.parse(await readFile(join(this.root, name, dirOf(v), MANIFEST), 'utf8')) as Manifest;
          return { ...m, version: v };
        } catch (e) {
          // an unreadable manifest still shows as a (damaged) version, so that load names it and fallback passes it
          return {
            format: `unreadable manifest (${(e as Error).message})`,
            version: v,
            createdAt: '',
            meta: {},
            records: [],
            bytes: 0,
          } as unknown as Manifest;
        }
      }),
    );
  }

  protected async records(name: string, m: Manifest): Promise<Map<string, Uint8Array>> {
    return splitRecords(
      m,
      new Uint8Array(await readFile(join(this.root, name, dirOf(m.version), RECORDS)).catch(() => Buffer.alloc(0))),
    );
  }

  protected async commit(
    name: string,
    m: Manifest,
    records: ReadonlyMap<string, Uint8Array>,
    drop: number[],
    o: SaveOptions,
  ): Promise<void> {
    const dir = join(this.root, name);
    await mkdir(dir, { recursive: true });
    await this.removeStaleTemporaries(dir);
    const tmp = join(dir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    await mkdir(tmp);
    try {
      const all = new Uint8Array(m.bytes);
      let at = 0;
      for (const e of m.records) {
        all.set(records.get(e.key)!, at);
        at += e.bytes;
      }
      await writeSynced(join(tmp, RECORDS), all);
      await writeSynced(join(tmp, MANIFEST), JSON.stringify(m, null, 1));
      await o.beforeCommit?.();
      if (o.signal?.aborted)
        fail(
          'ABORTED',
          `saving checkpoint '${name}' was aborted before it was committed`,
          'the previous version is unchanged',
        );
      await rename(tmp, join(dir, dirOf(m.version)));
      await syncDir(dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT')
        fail(
          'QUOTA_EXCEEDED',
          `no space left in ${dir} for checkpoint '${name}' (${m.bytes} bytes of tensors)`,
          'free disk space or keep fewer versions; the previous version is unchanged',
        );
      throw e;
    }
    if (drop.length) await this.remove(name, drop);
  }

  protected async remove(name: string, versions: number[]): Promise<void> {
    for (const v of versions) await rm(join(this.root, name, dirOf(v)), { recursive: true, force: true });
  }

  /** Temporary directories of saves whose process is gone (killed mid-save). */
  private async removeStaleTemporaries(dir: string): Promise<void> {
    for (const e of await readdir(dir)) {
      const m = /^\.tmp-(\d+)-/.exec(e);
      if (m && !alive(Number(m[1]))) await rm(join(dir, e), { recursive: true, force: true });
    }
  }
}
