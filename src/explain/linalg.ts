/**
 * Weighted least squares (optionally ridge-regularised): β minimising Σ_i w_i (y_i − X_i·β)² + λ Σ_{j<penalised} β_j²,
 * from the normal equations solved by Gaussian elimination with partial pivoting in float64. X is row-major [n, m];
 * columns from `penalised` on (an intercept) are left out of the ridge, as scikit-learn's Ridge leaves the intercept.
 */
export function weightedLeastSquares(
  X: Float64Array,
  y: Float64Array,
  w: Float64Array,
  m: number,
  ridge = 0,
  penalised = m,
): Float64Array {
  const n = y.length;
  const A = new Float64Array(m * m),
    b = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    if (wi === 0) continue;
    const row = i * m;
    for (let p = 0; p < m; p++) {
      const xp = X[row + p] * wi;
      if (xp === 0) continue;
      b[p] += xp * y[i];
      for (let q = 0; q < m; q++) A[p * m + q] += xp * X[row + q];
    }
  }
  for (let p = 0; p < penalised; p++) A[p * m + p] += ridge;
  return solve(A, b, m);
}

/** Solves A·x = b (A [m, m], overwritten); a singular direction gets 0. */
export function solve(A: Float64Array, b: Float64Array, m: number): Float64Array {
  const x = Float64Array.from(b);
  const scale = Math.max(1e-300, ...Array.from({ length: m }, (_, i) => Math.abs(A[i * m + i])));
  for (let c = 0; c < m; c++) {
    let piv = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r * m + c]) > Math.abs(A[piv * m + c])) piv = r;
    if (Math.abs(A[piv * m + c]) < 1e-12 * scale) {
      A[c * m + c] = 0;
      continue;
    }
    if (piv !== c) {
      for (let k = 0; k < m; k++) {
        const t = A[c * m + k];
        A[c * m + k] = A[piv * m + k];
        A[piv * m + k] = t;
      }
      const t = x[c];
      x[c] = x[piv];
      x[piv] = t;
    }
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = A[r * m + c] / A[c * m + c];
      if (f === 0) continue;
      for (let k = c; k < m; k++) A[r * m + k] -= f * A[c * m + k];
      x[r] -= f * x[c];
    }
  }
  return x.map((v, i) => (A[i * m + i] === 0 ? 0 : v / A[i * m + i]));
}
