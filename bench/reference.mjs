// Fallback correctness oracle (plain JS, f64 accumulation), used only when no impl named `js`
// is available. Normally the oracle is layerhive's own `js` impl.

export function referenceMatmul(M, K, N, a, b) {
  const c = new Float32Array(M * N);
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    row.fill(0);
    for (let k = 0; k < K; k++) {
      const aik = a[i * K + k];
      for (let j = 0; j < N; j++) row[j] += aik * b[k * N + j];
    }
    c.set(row, i * N);
  }
  return c;
}

export function referenceConv2d({ N, Cin, H, W, Cout, k, stride, pad }, x, w) {
  const Hout = Math.floor((H + 2 * pad - k) / stride) + 1;
  const Wout = Math.floor((W + 2 * pad - k) / stride) + 1;
  const y = new Float32Array(N * Cout * Hout * Wout);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Cout; co++)
      for (let oh = 0; oh < Hout; oh++)
        for (let ow = 0; ow < Wout; ow++) {
          let s = 0;
          for (let ci = 0; ci < Cin; ci++)
            for (let kh = 0; kh < k; kh++) {
              const ih = oh * stride - pad + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < k; kw++) {
                const iw = ow * stride - pad + kw;
                if (iw >= 0 && iw < W)
                  s += x[((n * Cin + ci) * H + ih) * W + iw] * w[((co * Cin + ci) * k + kh) * k + kw];
              }
            }
          y[((n * Cout + co) * Hout + oh) * Wout + ow] = s;
        }
  return y;
}
