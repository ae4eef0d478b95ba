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
 * Runs `fn` over `count` units, `args(start, end)` giving a range's arguments: with threads and at least SPLIT_MIN
 * elements, one range per thread (starts aligned to `align`), else the whole range in this thread. Every unit is
 * computed by one thread as one thread computes it, so the result does not depend on the split.
 */
export function splitRun(
  b: WasmBackend,
  fn: KernelExportName,
  elements: number,
  count: number,
  align: number,
  args: (start: number, end: number) => number[],
): void {
  const parts = b.threads > 1 && elements >= SPLIT_MIN ? ranges(count, b.threads, align) : [];
  // the one-thread call directly: these maps run many times a step, most of them small
  if (parts.length < 2) (b.k[fn] as (...a: number[]) => void)(...args(0, count));
  else b.runParts(parts.map(([start, end]) => ({ fn, args: args(start, end) })));
}
