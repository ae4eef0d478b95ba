import type { Rng } from '../core/rng.js';

/** The coalitions KernelSHAP evaluates, with their regression weights. */
export interface CoalitionPlan {
  /** On/off per feature; neither the empty nor the full coalition (those are F(∅) and F(x)). */
  coalitions: Uint8Array[];
  /** Regression weight of each coalition; they sum to 1. */
  weights: Float64Array;
  /** Every coalition enumerated: the regression then gives the exact Shapley values. */
  exact: boolean;
  /** The first `enumerated` coalitions are whole coalition sizes, weighted by the Shapley kernel. */
  enumerated: number;
  /** Each random draw's rows (a coalition and, for the paired sizes, its complement), for resampling. */
  draws: number[][];
  /** The weight the sampled rows share (1 − the enumerated sizes' share). */
  sampledWeight: number;
}

export const binomial = (n: number, k: number): number => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

/** Every k-subset of 0 … n − 1, in lexicographic order. */
function* subsets(n: number, k: number): Generator<number[]> {
  const c = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield c;
    let i = k - 1;
    while (i >= 0 && c[i] === n - k + i) i--;
    if (i < 0) return;
    c[i]++;
    for (let j = i + 1; j < k; j++) c[j] = c[j - 1] + 1;
  }
}

/** Every coalition but ∅ and the full one, with the Shapley kernel's weight (M − 1)/(C(M, s)·s·(M − s)). */
function enumerateAll(M: number): CoalitionPlan {
  const coalitions: Uint8Array[] = [],
    weights: number[] = [];
  for (let mask = 1; mask < 2 ** M - 1; mask++) {
    const z = Uint8Array.from({ length: M }, (_, j) => (mask >> j) & 1),
      s = z.reduce((a, b) => a + b, 0);
    coalitions.push(z);
    weights.push((M - 1) / (binomial(M, s) * s * (M - s)));
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return {
    coalitions,
    weights: Float64Array.from(weights, (w) => w / total),
    exact: true,
    enumerated: coalitions.length,
    draws: [],
    sampledWeight: 0,
  };
}

/**
 * The coalitions of shap's KernelExplainer for a budget of model calls (one per coalition; ∅ and the full one
 * are extra). Below 2^M − 2 it pairs each size s with M − s; from the smallest pair inward it enumerates every
 * coalition of a size pair while the budget, spread by the kernel's weight over the sizes left, gives each at least
 * one call; the budget left is drawn at random (a size by the kernel's weight among the sizes left, its members
 * uniformly), each draw with its complement, a repeated draw adding weight to its rows instead of a new call.
 * Enumerated coalitions carry the kernel's weight, sampled ones their count scaled to the weight left.
 */
export function planCoalitions(M: number, budget: number, rng: Rng): CoalitionPlan {
  if (M <= 30 && 2 ** M - 2 <= budget) return enumerateAll(M);
  const sizes = Math.ceil((M - 1) / 2),
    paired = Math.floor((M - 1) / 2);
  const kernel = Array.from({ length: sizes }, (_, k) => ((M - 1) / ((k + 1) * (M - k - 1))) * (k < paired ? 2 : 1));
  const kernelSum = kernel.reduce((a, b) => a + b, 0);
  for (let k = 0; k < sizes; k++) kernel[k] /= kernelSum;

  const coalitions: Uint8Array[] = [],
    weights: number[] = [];
  const rows = new Map<string, number>();
  const add = (z: Uint8Array, w: number): number => {
    const key = z.join('');
    const at = rows.get(key);
    if (at !== undefined) {
      weights[at] += w;
      return at;
    }
    rows.set(key, coalitions.length);
    coalitions.push(z);
    weights.push(w);
    return coalitions.length - 1;
  };
  const complement = (z: Uint8Array) => z.map((v) => 1 - v);

  // whole sizes, smallest pair first, while every coalition of the pair gets ≥ 1 call of the budget left
  let full = 0,
    left = budget;
  const remaining = [...kernel];
  for (let s = 1; s <= sizes; s++) {
    const count = binomial(M, s) * (s <= paired ? 2 : 1);
    if (left * remaining[s - 1] < count * (1 - 1e-8)) break;
    full++;
    left -= count;
    const share = remaining[s - 1];
    if (share < 1) for (let k = 0; k < sizes; k++) remaining[k] /= 1 - share;
    const w = kernel[s - 1] / count;
    for (const members of subsets(M, s)) {
      const z = new Uint8Array(M);
      for (const j of members) z[j] = 1;
      add(z, w);
      if (s <= paired) add(complement(z), w);
    }
  }
  const enumerated = coalitions.length;

  // the rest at random, each size drawn by its kernel weight per draw (a paired draw brings its complement)
  const draws: number[][] = [];
  let sampledWeight = 0;
  if (full < sizes) {
    const perDraw = kernel.map((w, k) => (k < paired ? w / 2 : w)).slice(full);
    const drawSum = perDraw.reduce((a, b) => a + b, 0);
    let toAdd = budget - enumerated;
    for (let tries = 4 * toAdd; toAdd > 0 && tries > 0; tries--) {
      let u = rng.uniform() * drawSum,
        k = 0;
      while (k < perDraw.length - 1 && u >= perDraw[k]) u -= perDraw[k++];
      const s = k + full + 1;
      const order = Array.from({ length: M }, (_, j) => j);
      const z = new Uint8Array(M);
      for (let j = 0; j < s; j++) {
        const r = j + Math.floor(rng.uniform() * (M - j));
        [order[j], order[r]] = [order[r], order[j]];
        z[order[j]] = 1;
      }
      const before = coalitions.length;
      const draw = [add(z, 1)];
      if (s <= paired && (coalitions.length === before || toAdd > 1)) draw.push(add(complement(z), 1));
      toAdd -= coalitions.length - before;
      draws.push(draw);
    }
    sampledWeight = kernel.slice(full).reduce((a, b) => a + b, 0);
    let counted = 0;
    for (let r = enumerated; r < weights.length; r++) counted += weights[r];
    for (let r = enumerated; r < weights.length; r++) weights[r] *= sampledWeight / counted;
  }
  return {
    coalitions,
    weights: Float64Array.from(weights),
    exact: false,
    enumerated,
    draws,
    sampledWeight,
  };
}
