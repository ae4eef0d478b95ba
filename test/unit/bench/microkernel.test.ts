// @module-tag hand-computed
/**
 * The micro-kernel study behind `npm run bench -- microkernel` (bench/microkernel/): its kernels, compiled the way
 * the suite compiles them, compute the tile product they are timed on. Every shape, as written and in a padded code
 * layout, is held to a float64 restatement of C = A·B on odd sizes: a partial tile (the packing zero-pads the rest,
 * which must come out 0), odd and tiny kc (the remainder loop of the unrolled kernels), a C row stride wider than
 * the tile (the gap must stay untouched) and A rows further apart than kc. The FMA ceiling loops are held to their
 * recurrence in float64, and the code reader's loop counts and 32-byte-boundary rule to a listing worked by hand.
 * Speed is not asserted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hitsJcc32, loopStats, parseListing } from '../../../bench/microkernel/codegen.mjs';
import { CEILING_CHAINS, studyVariants, VARIANTS, type Variant } from '../../../bench/microkernel/source.mjs';
import {
  ceilingReference,
  compileStudy,
  createStudy,
  referenceProduct,
  type Study,
  tileError,
} from '../../../bench/microkernel/study.mjs';

// every shape as written, and two of them padded (the padding only moves code: it must change no result); fewer
// kernels than the suite's four layouts keep the compile short
const variants = [
  ...studyVariants(undefined, [0]),
  ...studyVariants(
    VARIANTS.filter((v) => v.name === '6x8' || v.name === '4x16-rows-u2'),
    [1],
  ),
];

/** Uniform floats in [-1, 1) from a small LCG: the same inputs on every run. */
function floats(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** γ_kc · max Σ_k |a·b|: a bound on the rounding error of kc fused multiply-adds (u = 2^-24 per step). */
function roundingBound(A: Float32Array, B: Float32Array, mr: number, nr: number, kc: number): number {
  let worst = 0;
  for (let r = 0; r < mr; r++) {
    for (let j = 0; j < nr; j++) {
      let s = 0;
      for (let k = 0; k < kc; k++) s += Math.abs(A[r * kc + k] * B[k * nr + j]);
      worst = Math.max(worst, s);
    }
  }
  return (kc + 1) * 2 ** -24 * worst;
}

/** The sizes each variant is run on: its full tile at the suite's KC, then partial tiles on odd kc and strides. */
function cases(v: Variant) {
  return [
    { mr: v.mr, nr: v.nr, kc: 128, ldc: v.nr, lda: 128 },
    { mr: v.mr - 1, nr: v.nr - 3, kc: 37, ldc: v.nr + 3, lda: 41 },
    { mr: 1, nr: 1, kc: 1, ldc: v.nr + 1, lda: 2 },
    { mr: 2, nr: 5, kc: 2, ldc: v.nr, lda: 2 },
    { mr: v.mr, nr: v.nr, kc: 0, ldc: v.nr, lda: 0 },
  ];
}

describe('micro-kernel study: kernels', () => {
  let study: Study;
  beforeAll(async () => {
    study = createStudy((await compileStudy(variants, CEILING_CHAINS)).binary);
  }, 60_000);

  for (const v of variants) {
    it(`${v.name} (${v.mr}×${v.nr}, A ${v.a}, k×${v.unroll}) equals A·B on odd sizes`, () => {
      for (const [i, { mr, nr, kc, ldc, lda }] of cases(v).entries()) {
        const A = floats(mr * kc, 17 + i);
        const B = floats(kc * nr, 91 + i);
        const tile = study.tile(v, { A, B, mr, nr, kc, ldc, lda });
        tile.run(2); // twice: a call must not depend on the last one's C
        const err = tileError(tile.output(), referenceProduct(A, B, mr, nr, kc), {
          mr,
          nr,
          tileRows: v.mr,
          tileCols: v.nr,
          ldc,
        });
        expect(err, `${mr}×${nr}, kc ${kc}, ldc ${ldc}`).toBeLessThanOrEqual(roundingBound(A, B, mr, nr, kc));
      }
    });
  }

  it('the FMA ceiling loops run the recurrence s ← s·x + y on every chain', () => {
    for (const n of CEILING_CHAINS) {
      const [got, want] = study.ceiling(n).check(1000);
      expect(got, `${n} chains`).toBeCloseTo(want, 4);
      // the restatement itself against the closed form: s_i(t) = L + x^t·(s_i(0) − L), L = y / (1 − x), s_i(0) = i·y
      const [x, y] = [Math.fround(0.999), Math.fround(0.001)]; // the f32 constants the loop runs on
      const L = y / (1 - x);
      let closed = 0;
      for (let i = 0; i < n; i++) closed += L + x ** 1000 * (i * y - L);
      expect(ceilingReference(n, 1000, x, y)).toBeCloseTo(closed, 4);
    }
  });
});

describe('micro-kernel study: reading the compiled loop', () => {
  /** A --print-wasm-code listing of one function: a 64-byte prologue, then `body` laid out from offset 0x40. */
  function listing(body: [number, string][]): string {
    const lines = ['--- WebAssembly code ---', 'index: 3', 'kind: wasm function', 'compiler: TurboFan'];
    let off = 0;
    for (const [len, text] of [[64, 'REX.W subq rsp,0x150'] as [number, string], ...body]) {
      lines.push(`0x${(0x1000 + off).toString(16)}  ${off.toString(16).padStart(4)}  ${'90'.repeat(len)}  ${text}`);
      off += len;
    }
    return lines.join('\n');
  }
  const loop = (filler: [number, string][], beforeJump: [number, string]): [number, string][] => [
    [5, 'vmovdqu xmm12,[rdx+rdi*1]'],
    [5, 'vfmadd231ps xmm11,xmm13,xmm12'],
    [5, 'vmovups [rbp-0x50],xmm0'],
    [4, 'vmovups xmm2,xmm4'],
    [3, 'subl rbx,0x1'],
    ...filler,
    beforeJump,
    [6, 'jg 0x1040  <+0x40>'],
  ];
  const stats = (body: [number, string][]) => loopStats([...parseListing(listing(body)).values()][0]);

  it('counts the loop: FMAs, loads, stack accesses, moves, instructions', () => {
    // the loop runs 0x40–0x5d: test at 0x56, jg 0x58–0x5d, clear of 0x60
    expect(stats(loop([], [2, 'testl rbx,rbx']))).toEqual({
      instructions: 7,
      fma: 1,
      loads: 1,
      stack: 1,
      moves: 1,
      jcc32: false,
    });
  });

  it('flags a jump that ends on a 32-byte boundary', () => {
    // 2 bytes more: jg 0x5a–0x5f, its last byte just before 0x60
    expect(stats(loop([[2, 'movl rdi,rax']], [2, 'testl rbx,rbx']))?.jcc32).toBe(true);
  });

  it('flags a fused test+jump that crosses one, but not the same jump after an instruction that does not fuse', () => {
    // 8 bytes more: test 0x5e–0x5f, jg 0x60–0x65; the jump alone is clear of the boundary, the pair is not
    const filler: [number, string][] = [[8, 'REX.W movq rcx,[rbp+0x10]']];
    expect(stats(loop(filler, [2, 'testl rbx,rbx']))?.jcc32).toBe(true);
    expect(stats(loop(filler, [2, 'movl rbx,r9']))?.jcc32).toBe(false);
    const instrs = [...parseListing(listing(loop(filler, [2, 'movl rbx,r9']))).values()][0];
    expect(hitsJcc32(instrs, instrs.length - 1)).toBe(false);
  });
});
