import { fail } from '../core/errors.js';

/**
 * The IDX format (the MNIST files): two zero bytes, a type byte, a dimension count, one big-endian
 * uint32 size per dimension, then the elements row-major. Pure, so it runs in browsers and workers too.
 */
export interface IdxArray {
  dims: number[];
  /** A view on the bytes passed to `parseIdx` (no copy): writing to one changes the other. */
  data: Uint8Array;
}

const UBYTE = 0x08;
// The IDX type codes 0x08, 0x09 and 0x0b–0x0e, written in decimal.
const TYPE_NAMES: Record<number, string> = {
  8: 'unsigned byte',
  9: 'signed byte',
  11: 'int16',
  12: 'int32',
  13: 'float32',
  14: 'float64',
};
const HINT_FILE =
  "pass an uncompressed IDX file such as MNIST's train-images-idx3-ubyte (gunzip a .gz first), or download it again";

/**
 * Reads an IDX file of unsigned bytes. `name` only labels errors. The data is a view, not a copy: MNIST's
 * training images are 47 MB, and the caller's buffer is kept alive anyway. Bytes after the data are
 * rejected, because a longer file than its header declares is a wrong or damaged file, not padding.
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4) {
    fail('DATA_INVALID', `${name}: truncated header: expected at least 4 bytes, found ${bytes.length}`, HINT_FILE);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(
      'DATA_INVALID',
      `${name}: not an IDX file: expected magic bytes 00 00, found ${hex(bytes[0])} ${hex(bytes[1])}`,
      bytes[0] === 0x1f && bytes[1] === 0x8b ? 'this is a gzip file: gunzip it first' : HINT_FILE,
    );
  }
  const type = bytes[2];
  if (type !== UBYTE) {
    const what = TYPE_NAMES[type] ?? 'an unknown type';
    fail(
      'DATA_INVALID',
      `${name}: unsupported IDX element type ${hex(type)} (${what}); only 0x08 (unsigned byte) is read`,
      "use an IDX file of unsigned bytes, as MNIST's images and labels are",
    );
  }
  const rank = bytes[3];
  if (rank === 0) {
    fail('DATA_INVALID', `${name}: the IDX header declares 0 dimensions; expected at least 1`, HINT_FILE);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    fail(
      'DATA_INVALID',
      `${name}: truncated header: ${rank} dimensions need ${headerBytes} header bytes, found ${bytes.length}`,
      HINT_FILE,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const present = bytes.length - headerBytes;
  if (present < size) {
    fail(
      'DATA_INVALID',
      `${name}: truncated data: dims [${dims.join(', ')}] need ${size} bytes after the header, found ${present}`,
      'the file was cut short: download it again',
    );
  }
  if (present > size) {
    fail(
      'DATA_INVALID',
      `${name}: ${present - size} trailing bytes after the ${size} data bytes that dims [${dims.join(', ')}] declare`,
      'the header and the file length disagree: check this is the right file, or download it again',
    );
  }
  return { dims, data: bytes.subarray(headerBytes, headerBytes + size) };
}

function hex(b: number | undefined): string {
  return b === undefined ? '(none)' : `0x${b.toString(16).padStart(2, '0')}`;
}
