import type { WasmBackend } from '../wasm-backend.js';
import type { KernelExportName } from '../team.js';
import { ranges } from '../split.js';

/**
 * From this many elements on (read or written), with threads, a kernel below splits into contiguous ranges, one per
 * thread: under it a round trip to the helpers costs more than their share saves.
 */
export const SPLIT_MIN = 1 << 16;
/** Ranges of elements start on 64-byte lines, so two threads never write the same cache line. */
export const LINE = 16;

/**
 * With threads and at least SPLIT_MIN elements: runs `fn` once per thread over ranges of `count` units (starts
 * aligned to `align`), `args(start, end)` giving each range's arguments, and returns true. Otherwise returns false
 * and the caller runs its one-thread call as before. Every unit is computed by one thread as one thread computes
 * it, so the result does not depend on the split.
 */
export function splitRun(
  b: WasmBackend,
  fn: KernelExportName,
  elements: number,
  count: number,
  align: number,
  args: (start: number, end: number) => number[],
): boolean {
  if (b.threads < 2 || elements < SPLIT_MIN) return false;
  const parts = ranges(count, b.threads, align);
  if (parts.length < 2) return false;
  b.runParts(parts.map(([start, end]) => ({ fn, args: args(start, end) })));
  return true;
}
