/**
 * Fixed partitions for kernels split over threads: they depend only on the sizes and the thread count, never on
 * timing, so a call gives the same result every time (and, since each output element is computed by one thread
 * exactly as the single-thread kernel computes it, the same result as one thread).
 */

/**
 * `count` items in at most `parts` contiguous ranges [start, end), each starting at a multiple of `align` (the last
 * may end anywhere), as equal as the alignment allows; no empty range. One range means: do not split.
 */
export function ranges(count: number, parts: number, align: number): [number, number][] {
  const blocks = Math.ceil(count / align),
    n = Math.max(1, Math.min(parts, blocks));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const start = Math.floor((i * blocks) / n) * align,
      end = Math.min(count, Math.floor(((i + 1) * blocks) / n) * align);
    if (end > start) out.push([start, end]);
  }
  return out;
}

/** GEMM micro-tile (wasm/kernels/gemm.ts): rows MR, columns 8. Splits fall on tile edges. */
const MR = 6,
  NR = 8;

/**
 * How a GEMM C[M×N] splits over `threads`: by row panels of M, or by column panels of N when that repeats less
 * packing. Each thread packs all of the operand it does not split: all of op(B) (K·N floats) when M is split, all of
 * op(A) pre-broadcast (4·K·M) when N is split. Null when one thread is all the shape allows.
 */
export function gemmSplit(
  M: number,
  N: number,
  threads: number,
): { along: 'M' | 'N'; parts: [number, number][] } | null {
  const m = { along: 'M' as const, parts: ranges(M, threads, MR) },
    n = { along: 'N' as const, parts: ranges(N, threads, NR) };
  const [first, second] = 4 * M < N ? [n, m] : [m, n];
  // the other dimension only when the preferred one has too few panels to keep every thread busy
  const pick = first.parts.length >= second.parts.length ? first : second;
  return pick.parts.length > 1 ? pick : null;
}
