/** The ABI of the kernels built from wasm/ (pointers are byte offsets into the shared linear memory). */
export interface KernelExports {
  heapBase(): number;
  gemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    accumulate: number,
    work: number,
  ): void;
  gemmWorkBytes(M: number, N: number, K: number): number;
  im2col(
    x: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    outH: number,
    outW: number,
    col: number,
    ldcol: number,
  ): void;
  col2im(
    col: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    outH: number,
    outW: number,
    x: number,
    ldcol: number,
  ): void;
  winoFilter(w: number, O: number, C: number, flip: number, u: number): void;
  winoInput(
    x: number,
    Q: number,
    H: number,
    W: number,
    ph: number,
    pw: number,
    tH: number,
    tW: number,
    v: number,
    ldv: number,
    col0: number,
    buf: number,
  ): void;
  winoOutput(
    m: number,
    P: number,
    OH: number,
    OW: number,
    tH: number,
    tW: number,
    ldm: number,
    col0: number,
    y: number,
  ): void;
  relu(x: number, y: number, n: number): void;
  sigmoid(x: number, y: number, n: number): void;
  tanh(x: number, y: number, n: number): void;
  gelu(x: number, y: number, n: number): void;
  exp(x: number, y: number, n: number): void;
  log(x: number, y: number, n: number): void;
  sqrt(x: number, y: number, n: number): void;
  neg(x: number, y: number, n: number): void;
  reluGrad(dy: number, x: number, dx: number, n: number): void;
  sigmoidGrad(dy: number, y: number, dx: number, n: number): void;
  tanhGrad(dy: number, y: number, dx: number, n: number): void;
  geluGrad(dy: number, x: number, dx: number, n: number): void;
  binary(op: number, a: number, b: number, y: number, n: number): void;
  binaryScalar(op: number, a: number, s: number, y: number, n: number): void;
  scalarBinary(op: number, s: number, b: number, y: number, n: number): void;
  binaryRow(op: number, a: number, b: number, y: number, rows: number, cols: number): void;
  binaryMid(op: number, a: number, b: number, y: number, outer: number, mid: number, inner: number): void;
  sumRows(x: number, y: number, rows: number, cols: number): void;
  maxRows(x: number, y: number, rows: number, cols: number): void;
  sumCols(x: number, y: number, rows: number, cols: number): void;
  softmaxRows(x: number, y: number, rows: number, cols: number): void;
  maxPool(
    x: number,
    planes: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    OH: number,
    OW: number,
    y: number,
  ): void;
  maxPoolGrad(
    dy: number,
    x: number,
    planes: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    OH: number,
    OW: number,
    dx: number,
  ): void;
  avgPool(
    x: number,
    planes: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    OH: number,
    OW: number,
    y: number,
  ): void;
  avgPoolGrad(
    dy: number,
    planes: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    OH: number,
    OW: number,
    dx: number,
  ): void;
  logSoftmaxRows(x: number, y: number, rows: number, cols: number): void;
  adamStep(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    beta1: number,
    beta2: number,
    l2: number,
    keep: number,
    stepSize: number,
    c2: number,
    epsilon: number,
  ): void;
  sgdStep(p: number, g: number, vel: number, n: number, lr: number, momentum: number, weightDecay: number): void;
}

/** Op codes of binary / binaryScalar / binaryRow / binaryMid. */
export const binaryCodes = { add: 0, sub: 1, mul: 2, div: 3 } as const;
