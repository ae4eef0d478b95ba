import type { Tensor } from '../../core/tensor.js';
import type { Backend } from '../../backend/backend.js';
import { keep } from '../../core/scope.js';
import { fail } from '../../core/errors.js';
import { tensor, zeros } from '../../ops/index.js';
import { codeTable, dynamicMap } from './dynamic-map.js';
import { dequantizeBlockwise, quantizeBlockwise } from './blockwise.js';
import type { SavedSlots } from './optimizer.js';

/** Adam's second moment is non-negative: it takes the unsigned map; m and momentum take the signed one. */
const isUnsigned = (slot: string) => slot === 'v';
const tables = {
  signed: codeTable(dynamicMap(true)),
  // a positive v never rounds to 0 (see codeTable): the one place this differs from nearest rounding
  unsigned: codeTable(dynamicMap(false), { positiveStaysPositive: true }),
};
/** The code table of a state slot (map values, then thresholds: see codeTable). */
export const tableOf = (slot: string): Float32Array => (isUnsigned(slot) ? tables.unsigned : tables.signed);

const CODES = '.codes',
  ABSMAX = '.absmax';

/**
 * Per-parameter 8-bit state, created lazily: per slot, the codes packed four to an int32 word (n bytes, rounded up
 * to a word) and one f32 absmax per block. Checkpoints see the codes unpacked, one value 0…255 per element
 * (`param/slot.codes`, the parameter's shape) and `param/slot.absmax`; a saved float32 slot (`param/slot`, from
 * a 32-bit optimizer) is quantised on restore, so older checkpoints load.
 */
export class QuantizedState {
  private slots = new Map<string, { codes: Tensor; absmax: Tensor; shape: number[] }>();
  private tableTensors = new Map<string, Tensor>();

  constructor(readonly blockSize: number) {}

  get(slot: string, name: string, like: Tensor): { table: Tensor; codes: Tensor; absmax: Tensor } {
    const key = `${name}/${slot}`;
    let s = this.slots.get(key);
    if (!s) {
      s = {
        codes: keep(zeros([Math.ceil(like.size / 4)], 'int32', like.backend)),
        absmax: keep(zeros([Math.ceil(like.size / this.blockSize)], 'float32', like.backend)),
        shape: [...like.shape],
      };
      this.slots.set(key, s);
    }
    return { table: this.table(slot, like.backend), ...s };
  }

  private table(slot: string, backend: Backend): Tensor {
    const key = `${isUnsigned(slot) ? 'u' : 's'}:${backend.name}:${backend.flavour}`;
    let t = this.tableTensors.get(key);
    if (!t) {
      t = keep(tensor(tableOf(slot), [tableOf(slot).length], 'float32', backend));
      this.tableTensors.set(key, t);
    }
    return t;
  }

  /** The resident tensors (packed codes and absmax), named `param/slot.codes` and `param/slot.absmax`. */
  all(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [k, s] of this.slots) {
      out.set(k + CODES, s.codes);
      out.set(k + ABSMAX, s.absmax);
    }
    return out;
  }

  /** The state as checkpoint slots: codes unpacked to one value per element (exact in float32). */
  async read(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const entries = [...this.slots].map(async ([k, s]) => {
      const [words, absmax] = await Promise.all([s.codes.data(), s.absmax.data()]);
      const n = s.shape.reduce((p, d) => p * d, 1);
      const bytes = new Uint8Array(words.buffer, words.byteOffset, n);
      return [
        [k + CODES, { shape: [...s.shape], data: Float32Array.from(bytes) }],
        [k + ABSMAX, { shape: [absmax.length], data: Float32Array.from(absmax) }],
      ] satisfies [string, { shape: number[]; data: Float32Array }][];
    });
    return Object.fromEntries((await Promise.all(entries)).flat());
  }

  /**
   * Replaces the state of the parameters that `eightBit` selects with saved slots: 8-bit ones as they are, float32
   * ones quantised. Returns the saved slots it did not take (the caller's float32 state).
   */
  load(saved: SavedSlots, params: ReadonlyMap<string, Tensor>, eightBit: (p: Tensor) => boolean): SavedSlots {
    const rest: Record<string, SavedSlots[string]> = {};
    const next = new Map<string, { codes: Tensor; absmax: Tensor; shape: number[] }>();
    const refuse = (key: string, why: string): never => {
      for (const s of next.values()) for (const t of [s.codes, s.absmax]) t.dispose();
      return fail('DATA_INVALID', `saved optimizer slot '${key}' ${why}`, 'restore a state saved from the same model');
    };
    for (const [key, v] of Object.entries(saved)) {
      if (key.endsWith(ABSMAX)) continue;
      const quantized = key.endsWith(CODES),
        base = quantized ? key.slice(0, -CODES.length) : key;
      const like = params.get(base.slice(0, base.lastIndexOf('/')));
      if (!like || v.data.length !== like.size) refuse(key, 'does not fit a parameter of this group');
      if (!eightBit(like!)) {
        if (quantized) rest[base] = { shape: v.shape, data: floatSlot(saved, base, like!.size, this.blockSize) };
        else rest[key] = v;
        continue;
      }
      const slot = base.slice(base.lastIndexOf('/') + 1);
      let codes: Uint8Array, absmax: Float32Array;
      if (quantized) {
        absmax = saved[base + ABSMAX]?.data ?? refuse(key, 'has no absmax beside it');
        if (absmax.length !== Math.ceil(like!.size / this.blockSize)) refuse(key, 'has another block size');
        codes = Uint8Array.from(v.data);
      } else ({ codes, absmax } = quantizeBlockwise(v.data, tableOf(slot), this.blockSize));
      const words = new Int32Array(Math.ceil(like!.size / 4));
      new Uint8Array(words.buffer).set(codes);
      next.set(base, {
        codes: keep(tensor(words, [words.length], 'int32', like!.backend)),
        absmax: keep(tensor(Float32Array.from(absmax), [absmax.length], 'float32', like!.backend)),
        shape: [...like!.shape],
      });
    }
    this.disposeSlots();
    this.slots = next;
    return rest;
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) for (const t of [s.codes, s.absmax]) t.dispose();
    this.slots.clear();
  }

  dispose(): void {
    this.disposeSlots();
    for (const t of this.tableTensors.values()) t.dispose();
    this.tableTensors.clear();
  }
}

/**
 * Saved slots with every 8-bit pair (`x.codes`, `x.absmax`) turned into the float32 slot `x` it codes: how a 32-bit
 * optimizer takes back the state of an 8-bit one.
 */
export function floatSlots(saved: SavedSlots, blockSize: number): SavedSlots {
  const out: Record<string, SavedSlots[string]> = {};
  for (const [key, v] of Object.entries(saved)) {
    if (key.endsWith(ABSMAX)) continue;
    if (!key.endsWith(CODES)) out[key] = v;
    else {
      const base = key.slice(0, -CODES.length);
      out[base] = { shape: v.shape, data: floatSlot(saved, base, v.data.length, blockSize) };
    }
  }
  return out;
}

function floatSlot(saved: SavedSlots, base: string, n: number, blockSize: number): Float32Array {
  const codes = saved[base + CODES].data,
    absmax = saved[base + ABSMAX]?.data;
  if (!absmax || absmax.length !== Math.ceil(n / blockSize))
    fail(
      'DATA_INVALID',
      `saved optimizer slot '${base}${CODES}' has no absmax of ${Math.ceil(n / blockSize)} blocks beside it`,
      'restore a state saved from the same model configuration',
    );
  return dequantizeBlockwise(Uint8Array.from(codes), absmax, tableOf(base.slice(base.lastIndexOf('/') + 1)), blockSize);
}
