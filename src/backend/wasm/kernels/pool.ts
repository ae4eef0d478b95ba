import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { PoolAttrs, PoolGradAttrs } from '../../kernel-attrs.js';
import { poolCounted, poolOutHW } from '../../shapes.js';
import type { WasmBackend } from '../wasm-backend.js';
import { splitRun } from './split-run.js';

/**
 * The geometry arguments every pooling export takes after its data pointers: planes, H, W, window, stride, padding,
 * OH, OW.
 */
type Geometry = [number, number, number, number, number, number, number, number, number, number, number];

function args(shape: readonly number[], a: PoolAttrs): Geometry {
  const [N, C, H, W] = shape;
  const [OH, OW] = poolOutHW(H, W, a);
  return [N * C, H, W, a.kernel[0], a.kernel[1], a.stride[0], a.stride[1], a.pad[0], a.pad[1], OH, OW];
}

function pooledShape(g: Geometry, shape: readonly number[]): number[] {
  return [shape[0], shape[1], g[9], g[10]];
}

/**
 * Runs a pooling export over planes [0, planes): with threads and a large input, each thread takes a range of planes
 * (each plane is pooled, or its gradient formed, by one thread as one thread does it). `ptrs(p)` are the export's
 * data pointers moved to plane p; `tail` its arguments after the geometry.
 */
function overPlanes(
  b: WasmBackend,
  fn: 'maxPool' | 'maxPoolGrad' | 'avgPool' | 'avgPoolGrad',
  g: Geometry,
  ptrs: (plane: number) => number[],
  out: (plane: number) => number,
  tail: readonly number[] = [],
): void {
  const [planes, H, W] = g;
  const call = (p0: number, p1: number) => [...ptrs(p0), p1 - p0, ...g.slice(1), out(p0), ...tail];
  if (!splitRun(b, fn, planes * H * W, planes, 1, call)) (b.k[fn] as (...a: number[]) => void)(...call(0, planes));
}

export function maxPoolWasm(b: WasmBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, pooledShape(g, x.shape));
  const [, H, W, , , , , , , OH, OW] = g,
    px = b.ptr(x.storage),
    py = b.ptr(out.storage);
  overPlanes(
    b,
    'maxPool',
    g,
    (p) => [px + 4 * p * H * W],
    (p) => py + 4 * p * OH * OW,
  );
  return out;
}

export function maxPoolGradWasm(b: WasmBackend, [dy, x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, x.shape);
  const [, H, W, , , , , , , OH, OW] = g,
    pdy = b.ptr(dy.storage),
    px = b.ptr(x.storage),
    pdx = b.ptr(out.storage);
  overPlanes(
    b,
    'maxPoolGrad',
    g,
    (p) => [pdy + 4 * p * OH * OW, px + 4 * p * H * W],
    (p) => pdx + 4 * p * H * W,
  );
  return out;
}

export function avgPoolWasm(b: WasmBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, pooledShape(g, x.shape));
  const [, H, W, , , , , , , OH, OW] = g,
    px = b.ptr(x.storage),
    py = b.ptr(out.storage);
  const counted = poolCounted(x.shape[2], x.shape[3], a);
  overPlanes(
    b,
    'avgPool',
    g,
    (p) => [px + 4 * p * H * W],
    (p) => py + 4 * p * OH * OW,
    counted,
  );
  return out;
}

export function avgPoolGradWasm(b: WasmBackend, [dy]: readonly Tensor[], a: PoolGradAttrs): Tensor {
  const g = args(a.shape, a),
    out = makeTensor(b, a.shape);
  const [, H, W, , , , , , , OH, OW] = g,
    pdy = b.ptr(dy.storage),
    pdx = b.ptr(out.storage);
  const counted = poolCounted(a.shape[2], a.shape[3], a);
  overPlanes(
    b,
    'avgPoolGrad',
    g,
    (p) => [pdy + 4 * p * OH * OW],
    (p) => pdx + 4 * p * H * W,
    counted,
  );
  return out;
}
