import { fail, LayerhiveError } from '../core/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { decodeCheckpoint, encodeCheckpoint, FORMAT, type Manifest, type QuantizeOptions } from './codec.js';

/** One stored version of a named checkpoint, as `list` shows it. */
export interface VersionInfo {
  name: string;
  version: number;
  createdAt: string;
  /** Bytes of tensor data stored (manifest not counted). */
  bytes: number;
  quantized: boolean;
  meta: Record<string, unknown>;
  rolledBackFrom?: number;
}

export interface SaveOptions {
  /** Keep only the newest `keep` versions of this name after the save (the new one included). */
  keep?: number;
  quantize?: QuantizeOptions;
  /** Aborting before the commit leaves the store as it was (an ABORTED error). */
  signal?: AbortSignal;
  /** Test hook: runs once the new version is written but not committed (a crash here must lose only it). */
  beforeCommit?: () => void | Promise<void>;
}

export interface LoadOptions {
  /** A version number from `list`; default the newest. */
  version?: number;
  /** When the asked-for version is damaged, load the newest older one that checks out. */
  fallback?: boolean;
}

export interface Loaded extends Checkpoint {
  info: VersionInfo;
  /** Versions passed over on the way (fallback), newest first, with why. */
  skipped: { version: number; error: string }[];
}

/**
 * Named, versioned checkpoints. A save is atomic (one IndexedDB transaction, one directory rename): a save
 * that fails or is interrupted anywhere leaves every earlier version loadable. Every tensor carries a SHA-256
 * that `load` verifies.
 */
export interface CheckpointStore {
  save(name: string, ck: Checkpoint, o?: SaveOptions): Promise<VersionInfo>;
  load(name: string, o?: LoadOptions): Promise<Loaded>;
  /** Versions of `name`, oldest first; [] when there are none. */
  list(name: string): Promise<VersionInfo[]>;
  /** Names with at least one version. */
  names(): Promise<string[]>;
  /** Makes an old version the newest again by copying it (history is kept). */
  rollback(name: string, version: number): Promise<VersionInfo>;
  /** Deletes one version, or every version of the name. */
  delete(name: string, version?: number): Promise<void>;
  /** Deletes all but the newest `keep` versions; returns the deleted version numbers. */
  prune(name: string, keep: number): Promise<number[]>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkName(name: string): void {
  if (!NAME.test(name))
    fail(
      'INVALID_ARGUMENT',
      `checkpoint name ${JSON.stringify(name)} is not allowed`,
      'use letters, digits, ".", "_" and "-" (up to 128, not starting with a dot)',
    );
}

const infoOf = (name: string, m: Manifest): VersionInfo => ({
  name,
  version: m.version,
  createdAt: m.createdAt,
  bytes: m.bytes,
  // 'u8' (an 8-bit optimizer's codes) is exact: only the lossy codes make a version quantised
  quantized: m.records.some((r) => r.encoding === 'q8' || r.encoding === 'q8sqrt'),
  meta: m.meta,
  ...(m.rolledBackFrom !== undefined ? { rolledBackFrom: m.rolledBackFrom } : {}),
});

/** The version logic shared by the stores; a backend provides reading, an atomic commit and removal. */
export abstract class VersionedStore implements CheckpointStore {
  /** Where this store keeps its data, for messages. */
  protected abstract readonly where: string;
  /** Manifests of every complete version of `name` (any order). */
  protected abstract manifests(name: string): Promise<Manifest[]>;
  /** The records of one version; a missing one is absent from the map (the decoder names it). */
  protected abstract records(name: string, m: Manifest): Promise<Map<string, Uint8Array>>;
  /** Writes a version and deletes `drop` as one atomic change. */
  protected abstract commit(
    name: string,
    m: Manifest,
    records: ReadonlyMap<string, Uint8Array>,
    drop: number[],
    o: SaveOptions,
  ): Promise<void>;
  protected abstract remove(name: string, versions: number[]): Promise<void>;
  abstract names(): Promise<string[]>;

  async save(name: string, ck: Checkpoint, o: SaveOptions = {}): Promise<VersionInfo> {
    checkName(name);
    if (o.keep !== undefined && !(Number.isInteger(o.keep) && o.keep >= 1))
      fail('INVALID_ARGUMENT', `keep ${o.keep} is not a whole number ≥ 1`, 'keep at least the version being saved');
    const { manifest, records } = await encodeCheckpoint(ck, o.quantize);
    return this.add(name, (version) => ({ ...manifest, version, createdAt: new Date().toISOString() }), records, o);
  }

  private async add(
    name: string,
    make: (version: number) => Manifest,
    records: ReadonlyMap<string, Uint8Array>,
    o: SaveOptions,
  ): Promise<VersionInfo> {
    const versions = (await this.manifests(name)).map((m) => m.version).sort((a, b) => a - b);
    const m = make((versions.at(-1) ?? 0) + 1);
    const drop = o.keep === undefined ? [] : versions.slice(0, Math.max(0, versions.length + 1 - o.keep));
    if (o.signal?.aborted)
      fail(
        'ABORTED',
        `saving checkpoint '${name}' was aborted before it was written`,
        'the previous version is unchanged',
      );
    await this.commit(name, m, records, drop, o);
    return infoOf(name, m);
  }

  async list(name: string): Promise<VersionInfo[]> {
    checkName(name);
    return (await this.manifests(name)).sort((a, b) => a.version - b.version).map((m) => infoOf(name, m));
  }

  async load(name: string, o: LoadOptions = {}): Promise<Loaded> {
    checkName(name);
    const all = (await this.manifests(name)).sort((a, b) => b.version - a.version);
    if (!all.length)
      fail(
        'NOT_FOUND',
        `no checkpoint named '${name}' in ${this.where}`,
        'save one first (e.g. `layerhive train --out DIR`)',
      );
    const start = o.version === undefined ? 0 : all.findIndex((m) => m.version === o.version);
    if (start < 0)
      fail(
        'NOT_FOUND',
        `checkpoint '${name}' has no version ${o.version}`,
        `versions: ${all
          .map((m) => m.version)
          .reverse()
          .join(', ')}`,
      );
    const skipped: Loaded['skipped'] = [];
    for (const m of all.slice(start, o.fallback ? undefined : start + 1)) {
      try {
        if (m.format !== FORMAT || m.formatVersion !== 2)
          fail(
            'DATA_INVALID',
            `${this.where}: '${name}' version ${m.version} has format ${JSON.stringify(m.format)} ${m.formatVersion}`,
            'it was written by another program or version',
          );
        const ck = await decodeCheckpoint(
          m,
          await this.records(name, m),
          `${this.where}: '${name}' version ${m.version}`,
        );
        return { ...ck, info: infoOf(name, m), skipped };
      } catch (e) {
        if (!o.fallback || !(e instanceof LayerhiveError)) throw e;
        skipped.push({ version: m.version, error: e.message });
      }
    }
    return fail(
      'CHECKSUM_MISMATCH',
      `no version of '${name}' at or below ${all[start].version} checks out: ` +
        skipped.map((s) => `v${s.version}: ${s.error}`).join('; '),
      'train again',
    );
  }

  async rollback(name: string, version: number): Promise<VersionInfo> {
    checkName(name);
    const m =
      (await this.manifests(name)).find((x) => x.version === version) ??
      fail('NOT_FOUND', `checkpoint '${name}' has no version ${version}`, 'pick a version from list()');
    const records = await this.records(name, m);
    await decodeCheckpoint(m, records, `${this.where}: '${name}' version ${version}`); // never copy a damaged version
    return this.add(
      name,
      (v) => ({ ...m, version: v, createdAt: new Date().toISOString(), rolledBackFrom: version }),
      records,
      {},
    );
  }

  async delete(name: string, version?: number): Promise<void> {
    checkName(name);
    const versions = (await this.manifests(name)).map((m) => m.version);
    if (version !== undefined && !versions.includes(version))
      fail('NOT_FOUND', `checkpoint '${name}' has no version ${version}`, 'pick a version from list()');
    await this.remove(name, version === undefined ? versions : [version]);
  }

  async prune(name: string, keep: number): Promise<number[]> {
    checkName(name);
    if (!(Number.isInteger(keep) && keep >= 0))
      fail(
        'INVALID_ARGUMENT',
        `keep ${keep} is not a whole number ≥ 0`,
        'pass how many of the newest versions to keep',
      );
    const versions = (await this.manifests(name)).map((m) => m.version).sort((a, b) => a - b);
    const drop = versions.slice(0, Math.max(0, versions.length - keep));
    if (drop.length) await this.remove(name, drop);
    return drop;
  }
}
