import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { unaryOps, type UnaryOp } from '../../kernel-names.js';
import type { BinaryAttrs, UnaryAttrs } from '../../kernel-attrs.js';
import { binaryRef } from '../../js/kernels/binary.js';
import { unaryGradRef, unaryRef } from '../../js/kernels/unary.js';
import { broadcastShapes, sameShape } from '../../../core/shape.js';
import { binaryCodes, kernelExportNames } from '../exports.js';
import type { WasmBackend } from '../wasm-backend.js';
import { LINE, splitRun } from './split-run.js';

/**
 * The unary maps with SIMD code are the unary ops the kernels export under the op's name (x, y, n), and their
 * derivatives those exported as `<op>Grad` (dy, the forward x or y as unaryGradUses says, dx, n): both read from
 * the generated export list, so a kernel added to wasm/kernels is used without a list here to update.
 */
type UnaryExport = UnaryOp & KernelExportName;
type UnaryGradExport = `${UnaryOp}Grad` & KernelExportName;
type KernelExportName = (typeof kernelExportNames)[number];
const exported = new Set<string>(kernelExportNames);
const simdUnary = new Map<UnaryOp, UnaryExport>(
  unaryOps.filter((op) => exported.has(op)).map((op) => [op, op as UnaryExport]),
);
const simdUnaryGrad = new Map<UnaryOp, UnaryGradExport>(
  unaryOps.filter((op) => exported.has(`${op}Grad`)).map((op) => [op, `${op}Grad` as UnaryGradExport]),
);

export function unaryWasm(b: WasmBackend, inputs: readonly Tensor[], attrs: UnaryAttrs): Tensor {
  const fn = simdUnary.get(attrs.op);
  if (!fn) return unaryRef(b, inputs, attrs);
  const [x] = inputs;
  const out = makeTensor(b, x.shape);
  const px = b.ptr(x.storage),
    py = b.ptr(out.storage);
  splitRun(b, fn, x.size, x.size, LINE, (s, e) => [px + 4 * s, py + 4 * s, e - s]);
  return out;
}

export function unaryGradWasm(b: WasmBackend, inputs: readonly Tensor[], attrs: UnaryAttrs): Tensor {
  const fn = simdUnaryGrad.get(attrs.op);
  if (!fn) return unaryGradRef(b, inputs, attrs);
  const [dy, v] = inputs;
  const out = makeTensor(b, dy.shape);
  const pdy = b.ptr(dy.storage),
    pv = b.ptr(v.storage),
    pdx = b.ptr(out.storage);
  const range = (s: number, e: number) => [pdy + 4 * s, pv + 4 * s, pdx + 4 * s, e - s];
  splitRun(b, fn, dy.size, dy.size, LINE, range);
  return out;
}

/**
 * The broadcast patterns neural nets use run in SIMD: equal shapes, a scalar on either side, a row
 * vector over the trailing dimensions (dense bias), and a per-channel vector (NCHW bias, [1, C, 1, 1]).
 * Other patterns fall back to the reference kernel on the same memory.
 */
export function binaryWasm(b: WasmBackend, inputs: readonly Tensor[], attrs: BinaryAttrs): Tensor {
  const [x, y] = inputs;
  const code = binaryCodes[attrs.op as keyof typeof binaryCodes];
  if (code === undefined) return binaryRef(b, inputs, attrs);
  const shape = broadcastShapes(x.shape, y.shape, attrs.op);
  const scalarLeft = x.size === 1 && sameShape(y.shape, shape);
  const plan = sameShape(x.shape, shape) ? planFor(shape, y.shape) : null;
  if (!plan && !scalarLeft) return binaryRef(b, inputs, attrs);
  const out = makeTensor(b, shape);
  const pa = b.ptr(x.storage),
    pb = b.ptr(y.storage),
    py = b.ptr(out.storage);
  const n = out.size;
  if (!plan) {
    const s = b.view(x.storage)[0];
    splitRun(b, 'scalarBinary', n, n, LINE, (i, j) => [code, s, pb + 4 * i, py + 4 * i, j - i]);
    return out;
  }
  switch (plan.kind) {
    case 'same':
      splitRun(b, 'binary', n, n, LINE, (i, j) => [code, pa + 4 * i, pb + 4 * i, py + 4 * i, j - i]);
      break;
    case 'scalar': {
      const s = b.view(y.storage)[0];
      splitRun(b, 'binaryScalar', n, n, LINE, (i, j) => [code, pa + 4 * i, s, py + 4 * i, j - i]);
      break;
    }
    case 'row': {
      // rows of the left operand and the output; the row vector is read by every thread
      const { cols } = plan,
        rows = n / cols,
        at = (r: number) => 4 * r * cols;
      splitRun(b, 'binaryRow', n, rows, 1, (i, j) => [code, pa + at(i), pb, py + at(i), j - i, cols]);
      break;
    }
    case 'mid': {
      const { outer, mid, inner } = plan;
      // split the outer blocks when there are enough; a single block splits along its channels; else one thread
      const byOuter = outer !== 1,
        splits = outer === 1 || outer >= b.threads;
      const range = (i: number, j: number) =>
        byOuter
          ? [code, pa + 4 * i * mid * inner, pb, py + 4 * i * mid * inner, j - i, mid, inner]
          : [code, pa + 4 * i * inner, pb + 4 * i, py + 4 * i * inner, 1, j - i, inner];
      splitRun(b, 'binaryMid', splits ? n : 0, byOuter ? outer : mid, 1, range);
      break;
    }
  }
  return out;
}

type Plan =
  | { kind: 'same' | 'scalar' }
  | { kind: 'row'; cols: number }
  | { kind: 'mid'; outer: number; mid: number; inner: number };

/** How `small` (the right operand) broadcasts over `full`, if it is one of the SIMD patterns. */
function planFor(full: readonly number[], small: readonly number[]): Plan | null {
  const n = full.length;
  const s = [...new Array<number>(n - small.length).fill(1), ...small];
  const size = s.reduce((p, d) => p * d, 1);
  if (size === 1) return { kind: 'scalar' };
  // the dimensions where small is not 1 must form one contiguous run equal to full there
  const first = s.findIndex((d) => d !== 1),
    last = n - 1 - [...s].reverse().findIndex((d) => d !== 1);
  for (let i = first; i <= last; i++) if (s[i] !== full[i]) return null;
  const outer = full.slice(0, first).reduce((p, d) => p * d, 1);
  const inner = full.slice(last + 1).reduce((p, d) => p * d, 1);
  if (outer === 1 && inner === 1) return { kind: 'same' };
  if (inner === 1) return { kind: 'row', cols: size };
  return { kind: 'mid', outer, mid: size, inner };
}
