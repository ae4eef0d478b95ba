// Winograd F(2×2, 3×3) for 3×3, stride-1 convolutions (Lavin & Gray): each 2×2 output tile costs 16 products
// per channel pair instead of 36. A convolution becomes
//   U[ξ] = G g Gᵀ   (per filter; 16 matrices [P × Q], ξ = 4·i + j)
//   V[ξ] = Bᵀ d B   (per 4×4 input patch; 16 matrices [Q × T], T = tiles)
//   M[ξ] = U[ξ] · V[ξ]   (16 GEMMs, done by gemm())
//   Y    = Aᵀ m A   (per tile: the 2×2 outputs)
// with
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1].
// The same code runs the input gradient of a 3×3 "same" convolution: the filter transposed in its channels and
// rotated by 180°, over the output gradient.

/** Filters w [O][C][3][3] → U: 16 matrices [P × Q] (row stride Q). flip = 0: P = O, Q = C, g = w[p][q];
 *  flip ≠ 0 (input gradient): P = C, Q = O, g[i][j] = w[q][p][2 − i][2 − j]. */
export function winoFilter(w: usize, O: i32, C: i32, flip: i32, u: usize): void {
  const P = flip ? C : O, Q = flip ? O : C;
  const plane = <usize>(P * Q) << 2;
  for (let p = 0; p < P; p++) {
    for (let q = 0; q < Q; q++) {
      const g = w + ((<usize>(flip ? q * C + p : p * C + q) * 9) << 2);
      // g[i][j] (flipped: g[2 − i][2 − j])
      let g00: f32, g01: f32, g02: f32, g10: f32, g11: f32, g12: f32, g20: f32, g21: f32, g22: f32;
      if (flip) {
        g00 = load<f32>(g, 32); g01 = load<f32>(g, 28); g02 = load<f32>(g, 24);
        g10 = load<f32>(g, 20); g11 = load<f32>(g, 16); g12 = load<f32>(g, 12);
        g20 = load<f32>(g, 8); g21 = load<f32>(g, 4); g22 = load<f32>(g, 0);
      } else {
        g00 = load<f32>(g, 0); g01 = load<f32>(g, 4); g02 = load<f32>(g, 8);
        g10 = load<f32>(g, 12); g11 = load<f32>(g, 16); g12 = load<f32>(g, 20);
        g20 = load<f32>(g, 24); g21 = load<f32>(g, 28); g22 = load<f32>(g, 32);
      }
      // t = G g (4 × 3)
      const t00 = g00, t01 = g01, t02 = g02;
      const t10: f32 = 0.5 * (g00 + g10 + g20), t11: f32 = 0.5 * (g01 + g11 + g21), t12: f32 = 0.5 * (g02 + g12 + g22);
      const t20: f32 = 0.5 * (g00 - g10 + g20), t21: f32 = 0.5 * (g01 - g11 + g21), t22: f32 = 0.5 * (g02 - g12 + g22);
      const t30 = g20, t31 = g21, t32 = g22;
      // U = t Gᵀ (4 × 4), element (i, j) into matrix ξ = 4i + j at [p][q]
      const at = u + (<usize>(p * Q + q) << 2);
      row(at, plane, 0, t00, t01, t02);
      row(at, plane, 1, t10, t11, t12);
      row(at, plane, 2, t20, t21, t22);
      row(at, plane, 3, t30, t31, t32);
    }
  }
}

// @ts-ignore: decorator
@inline function row(at: usize, plane: usize, i: i32, a: f32, b: f32, c: f32): void {
  const base = at + <usize>(4 * i) * plane;
  store<f32>(base, a);
  store<f32>(base + plane, 0.5 * (a + b + c));
  store<f32>(base + 2 * plane, 0.5 * (a - b + c));
  store<f32>(base + 3 * plane, c);
}

/** One image x [Q][H][W] → columns col0 … col0 + tH·tW − 1 of the 16 matrices V [Q × ldv]: the transformed
 *  4×4 patches at rows 2·ty − ph …, columns 2·tx − pw … (zero outside the image). Each plane is first copied into
 *  `buf` with its zero border ((2·tH + 2) rows of 2·tW + 8 floats, rounded up to 4); then four neighbouring tiles
 *  go through the transform at once, one tile per lane, and each of the 16 results is one 4-wide store. A row's
 *  last group may run up to 3 tiles past it: those columns belong to tiles written later (the next row, the next
 *  image), or to the 4 columns of slack the caller leaves after the last image (ldv ≥ tiles of the chunk + 4). */
export function winoInput(x: usize, Q: i32, H: i32, W: i32, ph: i32, pw: i32, tH: i32, tW: i32, v: usize, ldv: i32,
  col0: i32, buf: usize): void {
  const plane = <usize>(Q * ldv) << 2;
  // rows of the padded plane (plain loops: memory.fill / copy calls cost more than these short rows)
  const Hp = 2 * tH + 2, Wp = (2 * tW + 8 + 3) & ~3, rowp = <usize>Wp << 2;
  const zero = f32x4.splat(0);
  for (let q = 0; q < Q; q++) {
    const xq = x + (<usize>(q * H * W) << 2);
    for (let r = 0; r < Hp; r++) {
      const yy = r - ph, dst = buf + <usize>r * rowp;
      for (let c = 0; c < Wp; c += 4) v128.store(dst + (<usize>c << 2), zero);
      if (yy < 0 || yy >= H) continue;
      const from = xq + (<usize>(yy * W) << 2), to = dst + (<usize>pw << 2);
      let c = 0;
      for (; c + 4 <= W; c += 4) v128.store(to + (<usize>c << 2), v128.load(from + (<usize>c << 2)));
      for (; c < W; c++) store<f32>(to + (<usize>c << 2), load<f32>(from + (<usize>c << 2)));
    }
    const vq = v + (<usize>(q * ldv + col0) << 2);
    for (let ty = 0; ty < tH; ty++) {
      const src = buf + <usize>(2 * ty) * rowp;
      for (let tx = 0; tx < tW; tx += 4) {
        const base = src + (<usize>(2 * tx) << 2);
        // d[i][j] with lane k = tile tx + k: padded column 2·(tx + k) + j
        const a0 = v128.load(base), b0 = v128.load(base, 16), c0 = v128.load(base, 8), e0 = v128.load(base, 24);
        const a1 = v128.load(base + rowp), b1 = v128.load(base + rowp, 16), c1 = v128.load(base + rowp, 8),
          e1 = v128.load(base + rowp, 24);
        const a2 = v128.load(base + 2 * rowp), b2 = v128.load(base + 2 * rowp, 16),
          c2 = v128.load(base + 2 * rowp, 8), e2 = v128.load(base + 2 * rowp, 24);
        const a3 = v128.load(base + 3 * rowp), b3 = v128.load(base + 3 * rowp, 16),
          c3 = v128.load(base + 3 * rowp, 8), e3 = v128.load(base + 3 * rowp, 24);
        const d00 = v128.shuffle<f32>(a0, b0, 0, 2, 4, 6), d01 = v128.shuffle<f32>(a0, b0, 1, 3, 5, 7),
          d02 = v128.shuffle<f32>(c0, e0, 0, 2, 4, 6), d03 = v128.shuffle<f32>(c0, e0, 1, 3, 5, 7);
        const d10 = v128.shuffle<f32>(a1, b1, 0, 2, 4, 6), d11 = v128.shuffle<f32>(a1, b1, 1, 3, 5, 7),
          d12 = v128.shuffle<f32>(c1, e1, 0, 2, 4, 6), d13 = v128.shuffle<f32>(c1, e1, 1, 3, 5, 7);
        const d20 = v128.shuffle<f32>(a2, b2, 0, 2, 4, 6), d21 = v128.shuffle<f32>(a2, b2, 1, 3, 5, 7),
          d22 = v128.shuffle<f32>(c2, e2, 0, 2, 4, 6), d23 = v128.shuffle<f32>(c2, e2, 1, 3, 5, 7);
        const d30 = v128.shuffle<f32>(a3, b3, 0, 2, 4, 6), d31 = v128.shuffle<f32>(a3, b3, 1, 3, 5, 7),
          d32 = v128.shuffle<f32>(c3, e3, 0, 2, 4, 6), d33 = v128.shuffle<f32>(c3, e3, 1, 3, 5, 7);
        const at = vq + (<usize>(ty * tW + tx) << 2);
        // r = Bᵀ d (rows), then V = r B (columns)
        rowOut(at, plane, 0, f32x4.sub(d00, d20), f32x4.sub(d01, d21), f32x4.sub(d02, d22), f32x4.sub(d03, d23));
        rowOut(at, plane, 1, f32x4.add(d10, d20), f32x4.add(d11, d21), f32x4.add(d12, d22), f32x4.add(d13, d23));
        rowOut(at, plane, 2, f32x4.sub(d20, d10), f32x4.sub(d21, d11), f32x4.sub(d22, d12), f32x4.sub(d23, d13));
        rowOut(at, plane, 3, f32x4.sub(d10, d30), f32x4.sub(d11, d31), f32x4.sub(d12, d32), f32x4.sub(d13, d33));
      }
    }
  }
}

/** Row i of V = r B for four tiles at once: (a − c, b + c, c − b, b − e) into matrices 4i … 4i + 3. */
// @ts-ignore: decorator
@inline function rowOut(at: usize, plane: usize, i: i32, a: v128, b: v128, c: v128, e: v128): void {
  const base = at + <usize>(4 * i) * plane;
  v128.store(base, f32x4.sub(a, c));
  v128.store(base + plane, f32x4.add(b, c));
  v128.store(base + 2 * plane, f32x4.sub(c, b));
  v128.store(base + 3 * plane, f32x4.sub(b, e));
}

/** Columns col0 … of the 16 matrices M [P × ldm] → one image's output y [P][OH][OW]: four neighbouring tiles at
 *  once (M may be read up to 3 tiles past the image: ldm leaves that slack); a group reaching past the right or
 *  bottom edge is stored output by output, through `spill` (64 bytes of the caller's: y00, y01, y10, y11 of the
 *  group; per call, so that threads sharing the memory each have their own). */
export function winoOutput(m: usize, P: i32, OH: i32, OW: i32, tH: i32, tW: i32, ldm: i32, col0: i32, y: usize,
  spill: usize): void {
  const plane = <usize>(P * ldm) << 2, row = <usize>OW << 2;
  for (let p = 0; p < P; p++) {
    const yp = y + (<usize>(p * OH * OW) << 2);
    for (let ty = 0; ty < tH; ty++) {
      const oy = 2 * ty;
      for (let tx = 0; tx < tW; tx += 4) {
        const at = m + (<usize>(p * ldm + col0 + ty * tW + tx) << 2);
        // s = Aᵀ m per column j, lanes = tiles; Y = s A
        const s00 = col3(at, plane, 0), s01 = col3(at, plane, 1), s02 = col3(at, plane, 2), s03 = col3(at, plane, 3);
        const s10 = colD(at, plane, 0), s11 = colD(at, plane, 1), s12 = colD(at, plane, 2), s13 = colD(at, plane, 3);
        const y00 = f32x4.add(f32x4.add(s00, s01), s02), y01 = f32x4.sub(f32x4.sub(s01, s02), s03);
        const y10 = f32x4.add(f32x4.add(s10, s11), s12), y11 = f32x4.sub(f32x4.sub(s11, s12), s13);
        const o = yp + (<usize>(oy * OW + 2 * tx) << 2);
        if (tx + 4 <= tW && 2 * tx + 8 <= OW && oy + 1 < OH) {
          v128.store(o, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5));
          v128.store(o, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), 16);
          v128.store(o + row, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5));
          v128.store(o + row, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), 16);
          continue;
        }
        v128.store(spill, y00); v128.store(spill, y01, 16); v128.store(spill, y10, 32); v128.store(spill, y11, 48);
        for (let k = 0; k < 4 && tx + k < tW; k++) {
          const ox = 2 * (tx + k), ok = ox + 1 < OW, at1 = o + (<usize>(2 * k) << 2), kk = <usize>k << 2;
          store<f32>(at1, load<f32>(spill + kk));
          if (ok) store<f32>(at1, load<f32>(spill + kk, 16), 4);
          if (oy + 1 < OH) {
            store<f32>(at1 + row, load<f32>(spill + kk, 32));
            if (ok) store<f32>(at1 + row, load<f32>(spill + kk, 48), 4);
          }
        }
      }
    }
  }
}

/** Row 0 of Aᵀ m in column j: m0j + m1j + m2j (four tiles). */
// @ts-ignore: decorator
@inline function col3(at: usize, plane: usize, j: i32): v128 {
  return f32x4.add(f32x4.add(v128.load(at + <usize>j * plane), v128.load(at + <usize>(4 + j) * plane)),
    v128.load(at + <usize>(8 + j) * plane));
}

/** Row 1 of Aᵀ m in column j: m1j − m2j − m3j (four tiles). */
// @ts-ignore: decorator
@inline function colD(at: usize, plane: usize, j: i32): v128 {
  return f32x4.sub(f32x4.sub(v128.load(at + <usize>(4 + j) * plane), v128.load(at + <usize>(8 + j) * plane)),
    v128.load(at + <usize>(12 + j) * plane));
}
