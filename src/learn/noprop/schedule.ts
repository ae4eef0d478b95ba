/**
 * The NoProp noise schedule over T blocks. z_0 is pure noise and z_T nearly the clean label embedding:
 * q(z_t | y) = N(√ᾱ_t · u_y, (1 − ᾱ_t) I) with ᾱ_t rising from 0 to 1 − ε along t (cosine, after Nichol &
 * Dhariwal, run from the noise end). α_{t−1} = ᾱ_{t−1} / ᾱ_t is the per-step factor of the noising chain
 * z_T → z_0, and (a_t, b_t, c_t) are the Gaussian posterior q(z_t | z_{t−1}, u_y) used at inference.
 */
export interface DiscreteSchedule {
  T: number;
  /** ᾱ_0 … ᾱ_T. */
  alphaBar: Float64Array;
  /** SNR(t) = ᾱ_t / (1 − ᾱ_t), t = 0 … T. */
  snr: Float64Array;
  /** Inference coefficients for t = 1 … T (index t; index 0 unused). */
  a: Float64Array;
  b: Float64Array;
  c: Float64Array;
}

export function cosineSchedule(T: number, { offset = 0.008, maxAlphaBar = 0.9999 } = {}): DiscreteSchedule {
  const f = (tau: number) => Math.cos(((tau + offset) / (1 + offset)) * (Math.PI / 2)) ** 2;
  const alphaBar = new Float64Array(T + 1);
  for (let t = 0; t <= T; t++) alphaBar[t] = Math.min(maxAlphaBar, Math.max(0, f((T - t) / T) / f(0)));
  const snr = alphaBar.map((ab) => ab / (1 - ab));
  const a = new Float64Array(T + 1),
    b = new Float64Array(T + 1),
    c = new Float64Array(T + 1);
  for (let t = 1; t <= T; t++) {
    const abPrev = alphaBar[t - 1],
      ab = alphaBar[t],
      alphaPrev = abPrev / ab;
    a[t] = (Math.sqrt(ab) * (1 - alphaPrev)) / (1 - abPrev);
    b[t] = (Math.sqrt(alphaPrev) * (1 - ab)) / (1 - abPrev);
    c[t] = ((1 - ab) * (1 - alphaPrev)) / (1 - abPrev);
  }
  return { T, alphaBar, snr, a, b, c };
}
