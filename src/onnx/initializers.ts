import type { onnx as OnnxNamespace } from 'onnx-proto';
import { fmtDims, importError as err, num } from './import-error.js';

type Onnx = typeof OnnxNamespace;

/** A constant of the graph: float32 values, or int64 ones (shapes, axes) read as numbers. */
export interface Constant {
  dims: number[];
  data: Float32Array;
  int64: boolean;
}

/**
 * A TensorProto's values, its declared size checked against the cap (`budget.left` values for the whole file) and
 * against the values actually present before anything is allocated. `what` names it in errors.
 */
export function readTensor(
  onnx: Onnx,
  t: OnnxNamespace.ITensorProto,
  what: string,
  budget: { left: number; cap: number },
): Constant {
  const DT = onnx.TensorProto.DataType;
  const dims = (t.dims ?? []).map(num);
  if (dims.some((d) => !(Number.isSafeInteger(d) && d >= 0)))
    throw err(`${what} has dims ${fmtDims(dims)}`, 'the file is damaged');
  let n = 1;
  for (const d of dims) n = Math.min(n * d, Number.MAX_SAFE_INTEGER);
  budget.left -= n;
  if (budget.left < 0)
    throw err(
      `${what} with dims ${fmtDims(dims)} brings the weights to ${budget.cap - budget.left} values, over the cap ` +
        `of ${budget.cap}`,
      'the file is damaged, or raise the cap with the maxValues option',
    );
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || t.externalData?.length)
    throw err(`${what} keeps its values in an external file`, 'save the model with its weights inside');
  if (t.dataType !== DT.FLOAT && t.dataType !== DT.INT64)
    throw err(`${what} has data type ${t.dataType}; only float32 (and int64 shapes) are read`);
  const size = t.dataType === DT.FLOAT ? 4 : 8;
  const present = t.floatData?.length
    ? t.floatData.length
    : t.int64Data?.length
      ? t.int64Data.length
      : t.rawData?.length
        ? t.rawData.byteLength / size
        : 0;
  if (present !== n) throw err(`${what} declares dims ${fmtDims(dims)} (${n} values) but the file holds ${present}`);
  let data: Float32Array;
  if (t.floatData?.length) data = Float32Array.from(t.floatData);
  else if (t.int64Data?.length) data = Float32Array.from(t.int64Data.map(num));
  else if (n === 0) data = new Float32Array(0);
  else {
    const raw = t.rawData as Uint8Array;
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    data =
      size === 8
        ? Float32Array.from({ length: n }, (_, i) => Number(v.getBigInt64(i * 8, true)))
        : Float32Array.from({ length: n }, (_, i) => v.getFloat32(i * 4, true));
  }
  return { dims, data, int64: t.dataType === DT.INT64 };
}

/** The graph's initializers by name (see `readTensor`). */
export function readInitializers(
  onnx: Onnx,
  g: OnnxNamespace.IGraphProto,
  budget: { left: number; cap: number },
): Map<string, Constant> {
  const inits = new Map<string, Constant>();
  for (const t of g.initializer ?? [])
    inits.set(t.name ?? '', readTensor(onnx, t, `initializer '${t.name ?? ''}'`, budget));
  return inits;
}
