import type { BatchCursor } from '../data/batches.js';
import type { RuleConfig } from '../learn/create.js';
import type { GroupState, PlainTensor } from '../learn/group-state.js';
import { fail } from '../core/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { dequantize, quantize, quantizedBytes, type Quantized } from './quantize.js';
import { sha256 } from './sha256.js';

export const FORMAT = 'layerhive-checkpoint';

/**
 * How one tensor is stored: raw little-endian f32, a block-quantised code (see quantize.ts), or 'u8', one byte per
 * value for values that are whole numbers 0…255 (an 8-bit optimizer's codes, `…/slot.codes`: kept exact).
 */
export type Encoding = 'f32' | 'u8' | Quantized;

/** One stored tensor: `key` is `param/<group>/<name>`, `slot/<group>/<param>/<slot>` or `buffer//<name>`. */
export interface RecordEntry {
  key: string;
  shape: number[];
  encoding: Encoding;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof FORMAT;
  formatVersion: 2;
  version: number;
  createdAt: string;
  config: RuleConfig;
  cursor: BatchCursor | null;
  meta: Record<string, unknown>;
  /** Per group: the optimizer's step count and the random stream (the tensors are records). */
  groups: Record<string, { steps: number; rng: number[] | null }>;
  records: RecordEntry[];
  /** Sum of the records' bytes. */
  bytes: number;
  /** Set on a version made by rolling back to an older one. */
  rolledBackFrom?: number;
}

export interface QuantizeOptions {
  /** Store parameters of ≥ 1 024 values as block-wise int8 (biases and small tensors stay f32). */
  weights?: boolean;
  /** Store optimizer moments in 8 bits ("8-bit Adam": m signed, v through its square root). */
  optimizer?: boolean;
}

const MIN_QUANTIZED = 1024;

function encodingOf(kind: 'param' | 'slot' | 'buffer', key: string, n: number, q: QuantizeOptions): Encoding {
  // 8-bit optimizer state is already quantised: its codes are stored exactly, its block maxima in f32
  if (kind === 'slot' && key.endsWith('.codes')) return 'u8';
  if (kind === 'slot' && key.endsWith('.absmax')) return 'f32';
  if (n < MIN_QUANTIZED) return 'f32';
  if (kind === 'param' && q.weights) return 'q8';
  if (kind === 'slot' && q.optimizer) return key.endsWith('/v') ? 'q8sqrt' : 'q8';
  return 'f32';
}

function encodeValues(data: Float32Array, e: Encoding): Uint8Array {
  if (e === 'u8') return Uint8Array.from(data);
  return e === 'f32'
    ? new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
    : quantize(data, e);
}

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** A checkpoint as a manifest (without version and date, which the store sets) and one byte record per tensor. */
export async function encodeCheckpoint(
  ck: Checkpoint,
  q: QuantizeOptions = {},
): Promise<{ manifest: Omit<Manifest, 'version' | 'createdAt'>; records: Map<string, Uint8Array> }> {
  const tensors: [kind: 'param' | 'slot' | 'buffer', key: string, t: PlainTensor][] = [];
  const groups: Manifest['groups'] = {};
  for (const [g, s] of Object.entries(ck.groups)) {
    groups[g] = { steps: s.optimizer.steps, rng: s.rng };
    for (const [k, t] of Object.entries(s.tensors)) tensors.push(['param', `param/${g}/${k}`, t]);
    for (const [k, t] of Object.entries(s.optimizer.slots)) tensors.push(['slot', `slot/${g}/${k}`, t]);
  }
  for (const [k, t] of Object.entries(ck.buffers)) tensors.push(['buffer', `buffer//${k}`, t]);
  const records = new Map<string, Uint8Array>();
  const entries = await Promise.all(
    tensors.map(async ([kind, key, t]): Promise<RecordEntry> => {
      if (t.data.length !== size(t.shape))
        fail(
          'SHAPE_MISMATCH',
          `tensor '${key}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`,
          'capture the checkpoint with captureCheckpoint',
        );
      const encoding = encodingOf(kind, key, t.data.length, q);
      const bytes = encodeValues(t.data, encoding);
      records.set(key, bytes);
      return { key, shape: [...t.shape], encoding, bytes: bytes.byteLength, sha256: await sha256(bytes) };
    }),
  );
  return {
    manifest: {
      format: FORMAT,
      formatVersion: 2,
      config: ck.config,
      cursor: ck.cursor,
      meta: ck.meta,
      groups,
      records: entries,
      bytes: entries.reduce((s, e) => s + e.bytes, 0),
    },
    records,
  };
}

/**
 * The records of a version stored back to back in manifest order (the file layout: records.bin). A short file
 * yields short or missing records, which `decodeCheckpoint` reports by name.
 */
export function splitRecords(m: Manifest, data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let at = 0;
  for (const e of m.records) {
    if (at < data.byteLength) out.set(e.key, data.subarray(at, Math.min(data.byteLength, at + e.bytes)));
    at += e.bytes;
  }
  return out;
}

/** Bytes a record must have for its shape and encoding. */
export function expectedBytes(e: RecordEntry): number {
  const n = size(e.shape);
  return e.encoding === 'f32' ? 4 * n : e.encoding === 'u8' ? n : quantizedBytes(n);
}

/**
 * Checks every record (present, right length, SHA-256 as written) and rebuilds the checkpoint. A bad record
 * is a CHECKSUM_MISMATCH error naming the tensor and where it was read from.
 */
export async function decodeCheckpoint(
  m: Manifest,
  records: ReadonlyMap<string, Uint8Array | undefined>,
  source: string,
): Promise<Checkpoint> {
  const hint = 'the stored copy is damaged: load an earlier version (or ask for fallback), or train again';
  await Promise.all(
    m.records.map(async (e) => {
      const bytes = records.get(e.key);
      if (!bytes) fail('CHECKSUM_MISMATCH', `${source}: tensor '${e.key}' is missing`, hint);
      if (bytes.byteLength !== e.bytes || e.bytes !== expectedBytes(e))
        fail(
          'CHECKSUM_MISMATCH',
          `${source}: tensor '${e.key}' has ${bytes.byteLength} bytes, expected ${e.bytes} (truncated?)`,
          hint,
        );
      if ((await sha256(bytes)) !== e.sha256)
        fail('CHECKSUM_MISMATCH', `${source}: tensor '${e.key}' fails its SHA-256 check`, hint);
    }),
  );
  const groups: Record<string, GroupState> = {};
  for (const [g, s] of Object.entries(m.groups))
    groups[g] = { tensors: {}, optimizer: { steps: s.steps, slots: {} }, rng: s.rng };
  const buffers: Record<string, PlainTensor> = {};
  for (const e of m.records) {
    const bytes = records.get(e.key)!;
    const n = size(e.shape);
    const data =
      e.encoding === 'f32'
        ? new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
        : e.encoding === 'u8'
          ? Float32Array.from(bytes)
          : dequantize(bytes, n, e.encoding);
    const t = { shape: e.shape, data };
    const [kind, group, ...rest] = e.key.split('/');
    const name = rest.join('/');
    const gs = groups[group];
    if (kind === 'buffer') buffers[name] = t;
    else if (!gs)
      fail(
        'DATA_INVALID',
        `${source}: tensor '${e.key}' names group '${group}', which the manifest does not list`,
        hint,
      );
    else if (kind === 'param') gs.tensors[name] = t;
    else gs.optimizer.slots[name] = t;
  }
  return { config: m.config, groups, buffers, cursor: m.cursor, meta: m.meta };
}
