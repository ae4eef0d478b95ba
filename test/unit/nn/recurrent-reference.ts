/**
 * The recurrent layers restated in float64 from their equations (Elman; PyTorch's GRU with gates r, z, n), on plain
 * arrays in the layers' parameter layout (row-vector convention: W [F, G·H] row-major), for the layer tests and the
 * tpSGD-recurrent tests.
 */

export interface RecurrentParams {
  weight: ArrayLike<number>;
  recurrentWeight: ArrayLike<number>;
  bias: ArrayLike<number>;
  recurrentBias?: ArrayLike<number>;
}

const sig = (v: number) => 1 / (1 + Math.exp(-v));

/** a·M for a row a [K] and M [K, N] row-major, columns [c0, c0 + n) of M. */
function rowTimes(a: ArrayLike<number>, M: ArrayLike<number>, N: number, c0: number, n: number): number[] {
  const out = new Array(n).fill(0);
  for (let k = 0; k < a.length; k++) for (let j = 0; j < n; j++) out[j] += a[k] * M[k * N + c0 + j];
  return out;
}

/** One step for one sample: h_t from x_t [F] and h_{t−1} [H]. */
export function cellStep(
  kind: 'rnn' | 'gru',
  p: RecurrentParams,
  H: number,
  x: ArrayLike<number>,
  h: ArrayLike<number>,
): number[] {
  if (kind === 'rnn') {
    const a = rowTimes(x, p.weight, H, 0, H),
      b = rowTimes(h, p.recurrentWeight, H, 0, H);
    return a.map((v, j) => Math.tanh(v + b[j] + p.bias[j]));
  }
  const G = 3 * H;
  const gx = (k: number) => rowTimes(x, p.weight, G, k * H, H).map((v, j) => v + p.bias[k * H + j]);
  const gh = (k: number) => rowTimes(h, p.recurrentWeight, G, k * H, H).map((v, j) => v + p.recurrentBias![k * H + j]);
  const [xr, xz, xn] = [gx(0), gx(1), gx(2)];
  const [hr, hz, hn] = [gh(0), gh(1), gh(2)];
  const r = xr.map((v, j) => sig(v + hr[j]));
  const z = xz.map((v, j) => sig(v + hz[j]));
  const n = xn.map((v, j) => Math.tanh(v + r[j] * hn[j]));
  return n.map((v, j) => (1 - z[j]) * v + z[j] * h[j]);
}

/** Every state h_0 … h_{T−1} of each sample of x [B, T, F]: [B][T][H]. */
export function sequence(
  kind: 'rnn' | 'gru',
  p: RecurrentParams,
  H: number,
  x: ArrayLike<number>,
  B: number,
  T: number,
  F: number,
): number[][][] {
  const out: number[][][] = [];
  for (let b = 0; b < B; b++) {
    let h: number[] = new Array(H).fill(0);
    const hs: number[][] = [];
    for (let t = 0; t < T; t++) {
      const off = (b * T + t) * F;
      h = cellStep(kind, p, H, Array.from(x).slice(off, off + F), h);
      hs.push(h);
    }
    out.push(hs);
  }
  return out;
}
