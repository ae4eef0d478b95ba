import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { PoolAttrs, PoolGradAttrs } from '../../kernel-attrs.js';
import { poolCounted, poolOutHW } from '../../shapes.js';
import type { WasmBackend } from '../wasm-backend.js';

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

export function maxPoolWasm(b: WasmBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, pooledShape(g, x.shape));
  b.k.maxPool(b.ptr(x.storage), ...g, b.ptr(out.storage));
  return out;
}

export function maxPoolGradWasm(b: WasmBackend, [dy, x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, x.shape);
  b.k.maxPoolGrad(b.ptr(dy.storage), b.ptr(x.storage), ...g, b.ptr(out.storage));
  return out;
}

export function avgPoolWasm(b: WasmBackend, [x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const g = args(x.shape, a),
    out = makeTensor(b, pooledShape(g, x.shape));
  b.k.avgPool(b.ptr(x.storage), ...g, b.ptr(out.storage), ...poolCounted(x.shape[2], x.shape[3], a));
  return out;
}

export function avgPoolGradWasm(b: WasmBackend, [dy]: readonly Tensor[], a: PoolGradAttrs): Tensor {
  const g = args(a.shape, a),
    out = makeTensor(b, a.shape);
  b.k.avgPoolGrad(b.ptr(dy.storage), ...g, b.ptr(out.storage), ...poolCounted(a.shape[2], a.shape[3], a));
  return out;
}
