const computed = new Map<number, { points: Float64Array; weights: Float64Array }>();

/**
 * Gauss–Legendre nodes and weights on [0, 1] (Newton's iteration on P_n; exact for polynomials of degree 2n − 1).
 * Computed once per n (the arrays are shared: do not write to them).
 */
export function gaussLegendre(n: number): { points: Float64Array; weights: Float64Array } {
  let r = computed.get(n);
  if (!r) {
    r = solveGaussLegendre(n);
    computed.set(n, r);
  }
  return r;
}

function solveGaussLegendre(n: number): { points: Float64Array; weights: Float64Array } {
  const points = new Float64Array(n),
    weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5)),
      dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1,
        p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? x : p1,
        pn1 = n === 1 ? 1 : p0;
      dp = (n * (x * pn - pn1)) / (x * x - 1);
      const dx = pn / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-15) break;
    }
    points[n - 1 - i] = (x + 1) / 2;
    weights[n - 1 - i] = 1 / ((1 - x * x) * dp * dp);
  }
  return { points, weights };
}

/** Midpoint Riemann sum on [0, 1]. */
export function riemann(n: number): { points: Float64Array; weights: Float64Array } {
  return {
    points: Float64Array.from({ length: n }, (_, k) => (k + 0.5) / n),
    weights: new Float64Array(n).fill(1 / n),
  };
}
