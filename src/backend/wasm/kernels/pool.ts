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
 * (each plane is pooled, or its gradient formed, by one thread as one thread does it). `data` are the export's
 * pointers, the last one written after the geometry, each with the plane it steps by: the input's ('x', H·W) or the
 * pooled output's ('y', OH·OW); `tail` the arguments after them.
 */
function overPlanes(
  b: WasmBackend,
  fn: 'maxPool' | 'maxPoolGrad' | 'avgPool' | 'avgPoolGrad',
  g: Geometry,
  data: readonly (readonly [ptr: number, plane: 'x' | 'y'])[],
  tail: readonly number[] = [],
): void {
  const [planes, H, W, , , , , , , OH, OW] = g,
    bytes = { x: 4 * H * W, y: 4 * OH * OW };
  const at = (p: number) => data.map(([ptr, plane]) => ptr + p * bytes[plane]);
  const call = (p0: number, p1: number) => {
    const ptrs = at(p0);
    return [...ptrs.slice(0, -1), p1 - p0, ...g.slice(1), ptrs[ptrs.length - 1], ...tail];
  };
  splitRun(b, fn, planes * H * W, planes, 1, call);
}

export function maxPoolWasm(b: WasmBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, pooledShape(g, x.shape));
  overPlanes(b, 'maxPool', g, [
    [b.ptr(x.storage), 'x'],
    [b.ptr(out.storage), 'y'],
  ]);
  return out;
}

export function maxPoolGradWasm(b: WasmBackend, [dy, x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, x.shape);
  overPlanes(b, 'maxPoolGrad', g, [
    [b.ptr(dy.storage), 'y'],
    [b.ptr(x.storage), 'x'],
    [b.ptr(out.storage), 'x'],
  ]);
  return out;
}

export function avgPoolWasm(b: WasmBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, pooledShape(g, x.shape));
  const data = [[b.ptr(x.storage), 'x'] as const, [b.ptr(out.storage), 'y'] as const];
  overPlanes(b, 'avgPool', g, data, poolCounted(x.shape[2], x.shape[3], a));
  return out;
}

export function avgPoolGradWasm(b: WasmBackend, [dy]: readonly Tensor[], a: PoolGradAttrs): Tensor {
  const g = args(a.shape, a),
    out = makeTensor(b, a.shape);
  const data = [[b.ptr(dy.storage), 'y'] as const, [b.ptr(out.storage), 'x'] as const];
  overPlanes(b, 'avgPoolGrad', g, data, poolCounted(a.shape[2], a.shape[3], a));
  return out;
}
