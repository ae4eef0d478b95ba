import type { Tensor } from '../../core/tensor.js';
import type { SavedSlots } from './optimizer.js';
import type { SlotState } from './state.js';
import { floatSlots, type QuantizedState } from './quantized-state.js';
import { BLOCK } from './blockwise.js';

/** How an optimizer holds its state in 8 bits: values per absmax block, and the smallest parameter it quantises. */
export interface EightBit {
  blockSize: number;
  /** Smaller parameters (biases, norms) keep float32 state: they cost little and are the most sensitive. */
  minSize: number;
}

export const eightBitOf = (e: EightBit | undefined, p: Tensor): boolean => !!e && p.size >= e.minSize;

/** Every state slot as checkpoint data: float32 slots read as they are, 8-bit ones with their codes unpacked. */
export async function readSlots(
  state: SlotState,
  q: QuantizedState | null,
): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
  type Slot = { shape: number[]; data: Float32Array };
  const float = [...state.all()].map(
    async ([k, t]): Promise<[string, Slot]> => [
      k,
      { shape: [...t.shape], data: Float32Array.from((await t.data()) as Float32Array) },
    ],
  );
  const [f, e] = await Promise.all([Promise.all(float), q ? q.read() : {}]);
  return { ...Object.fromEntries(f), ...e };
}

/**
 * Restores saved slots into float32 and (when there is one) 8-bit state: a 32-bit optimizer dequantises 8-bit
 * slots, an 8-bit one quantises float32 slots of the parameters it holds in 8 bits.
 */
export function restoreSlots(
  slots: SavedSlots,
  params: ReadonlyMap<string, Tensor>,
  state: SlotState,
  q: QuantizedState | null,
  e: EightBit | undefined,
): void {
  if (!q) state.load(floatSlots(slots, BLOCK), params);
  else
    state.load(
      q.load(slots, params, (p) => eightBitOf(e, p)),
      params,
    );
}
