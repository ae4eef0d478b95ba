import { FederatedError } from './errors.js';

/** The dtypes the codec reads and writes, as NumPy names them (`str(ndarray.dtype)`), with their `.npy` descr. */
export const npyDtypes = {
  float32: { descr: 'f4', bytes: 4 },
  float64: { descr: 'f8', bytes: 8 },
  int8: { descr: 'i1', bytes: 1 },
  uint8: { descr: 'u1', bytes: 1 },
  int16: { descr: 'i2', bytes: 2 },
  uint16: { descr: 'u2', bytes: 2 },
  int32: { descr: 'i4', bytes: 4 },
  uint32: { descr: 'u4', bytes: 4 },
  int64: { descr: 'i8', bytes: 8 },
  uint64: { descr: 'u8', bytes: 8 },
  bool: { descr: 'b1', bytes: 1 },
} as const;
export type NpyDtype = keyof typeof npyDtypes;

type Typed =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** An n-dimensional array as `.npy` holds it: C order, little-endian in memory here. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** The values; `bool` travels as a Uint8Array of 0 and 1. */
  data: Typed;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const bad = (why: string): never => {
  throw new FederatedError('malformed', `not a .npy array: ${why}`, 'send arrays written by numpy.save');
};

const ctor = (dtype: NpyDtype) =>
  ({
    float32: Float32Array,
    float64: Float64Array,
    int8: Int8Array,
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
    int64: BigInt64Array,
    uint64: BigUint64Array,
    bool: Uint8Array,
  })[dtype];

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the byte order of each `size`-byte element in place (big-endian data, or writing on a big-endian host). */
function swap(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Python-literal header dict of a `.npy` file: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`. */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1] ?? bad('no descr in the header');
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1] ?? bad('no fortran_order in the header');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1] ?? bad('no shape in the header');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : bad(`shape entry '${s}'`)));
  return { descr, fortran: fortran === 'True', shape };
}

/** Reads `.npy` bytes (format 1.0–3.0; C or Fortran order; either byte order) into a C-order array. */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) bad('the magic string is missing');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen =
    major === 1 ? view.getUint16(8, true) : major <= 3 ? view.getUint32(8, true) : bad(`version ${major}`);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) bad('the header runs past the end');
  const header = parseHeader(
    new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen)),
  );
  const order = header.descr[0];
  const code = header.descr.slice(1);
  const dtype = (Object.keys(npyDtypes) as NpyDtype[]).find((d) => npyDtypes[d].descr === code);
  if (!dtype || !'<>|='.includes(order)) return bad(`dtype '${header.descr}' is not supported`);
  const size = npyDtypes[dtype].bytes;
  const count = product(header.shape);
  const body = bytes.subarray(start + headerLen);
  if (body.length !== count * size) bad(`${body.length} data bytes for ${count} values of ${size} bytes`);
  const own = body.slice(); // aligned copy
  const bigEndianData = order === '>' || (order === '=' && !littleEndian);
  if (size > 1 && bigEndianData === littleEndian) swap(own, size);
  const Ctor = ctor(dtype);
  let data: Typed = new Ctor(own.buffer, 0, count);
  if (header.fortran && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { dtype, shape: header.shape, data };
}

function fortranToC(src: Typed, shape: number[]): Typed {
  const out = new (src.constructor as new (n: number) => Typed)(src.length);
  const n = shape.length;
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < src.length; c++) {
    let f = 0;
    let stride = 1;
    for (let d = 0; d < n; d++) {
      f += idx[d] * stride;
      stride *= shape[d];
    }
    (out as unknown as number[])[c] = (src as unknown as number[])[f];
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Writes `.npy` version 1.0 bytes, exactly as `numpy.save(..., allow_pickle=False)` does for a C-order array. */
export function encodeNpy(a: NpyArray): Uint8Array {
  const { descr, bytes: size } = npyDtypes[a.dtype] ?? bad(`dtype '${a.dtype}'`);
  const count = product(a.shape);
  if (a.data.length !== count) bad(`${a.data.length} values for shape (${a.shape.join(', ')})`);
  const order = size === 1 ? '|' : '<';
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${order}${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // numpy pads with spaces so that magic + length + header + newline is a multiple of 64
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + count * size);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new Uint8Array(a.data.buffer, a.data.byteOffset, count * size);
  out.set(body, 10 + header.length);
  if (!littleEndian && size > 1) swap(out.subarray(10 + header.length), size);
  return out;
}
