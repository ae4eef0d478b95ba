import { describe, expect, it } from 'vitest';
import { parseIdx } from '../../../src/data/index.js';
import { idxBytes } from './idx-bytes.js';

const invalid = (msg: RegExp) => expect.objectContaining({ code: 'DATA_INVALID', message: expect.stringMatching(msg) });

describe('parseIdx', () => {
  it('reads dims big-endian and the data row-major', { tags: ['hand-computed'] }, () => {
    const data = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 7) % 256);
    const f = parseIdx(idxBytes([2, 3, 4], data), 'imgs');
    expect(f.dims).toEqual([2, 3, 4]);
    expect(Array.from(f.data)).toEqual(data);
  });

  it('reads sizes above 255 and 65535 (all four bytes of each dim)', { tags: ['hand-computed'] }, () => {
    const bytes = idxBytes([70_000], new Uint8Array(70_000).fill(3));
    expect(Array.from(bytes.subarray(4, 8))).toEqual([0x00, 0x01, 0x11, 0x70]);
    const f = parseIdx(bytes, 'labels');
    expect(f.dims).toEqual([70_000]);
    expect(f.data.length).toBe(70_000);
  });

  it('returns a view on the input, also when the input is itself a view at an offset', { tags: ['behaviour'] }, () => {
    const inner = idxBytes([3], [9, 8, 7]);
    const outer = new Uint8Array(inner.length + 5);
    outer.set(inner, 5);
    const f = parseIdx(outer.subarray(5), 'offset');
    expect(Array.from(f.data)).toEqual([9, 8, 7]);
    outer[outer.length - 1] = 42;
    expect(f.data[2]).toBe(42);
  });

  it('rejects a wrong magic, naming the file and the bytes found', { tags: ['behaviour'] }, () => {
    const b = idxBytes([1], [0]);
    b[1] = 0x03;
    expect(() => parseIdx(b, 'bad.idx')).toThrow(invalid(/bad\.idx.*magic.*00 00.*0x00 0x03/));
  });

  it('says a gzip file is gzip', { tags: ['behaviour'] }, () => {
    const b = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]);
    expect(() => parseIdx(b, 'x.gz')).toThrow(
      expect.objectContaining({ code: 'DATA_INVALID', hint: expect.stringMatching(/gunzip/) }),
    );
  });

  it('rejects element types other than unsigned byte', { tags: ['behaviour'] }, () => {
    expect(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d), 'floats')).toThrow(
      invalid(/floats.*0x0d \(float32\).*0x08/),
    );
    expect(() => parseIdx(idxBytes([1], [0], 0x42), 'odd')).toThrow(invalid(/odd.*0x42.*unknown/));
  });

  it('rejects a truncated header', { tags: ['behaviour'] }, () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 8]), 'short')).toThrow(
      invalid(/short.*truncated header.*at least 4.*found 3/),
    );
    const b = idxBytes([60000, 28, 28], []).subarray(0, 11);
    expect(() => parseIdx(b, 'hdr')).toThrow(invalid(/hdr.*truncated header.*3 dimensions need 16.*found 11/));
  });

  it('rejects a truncated data section, with bytes expected and present', { tags: ['behaviour'] }, () => {
    const b = idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]).subarray(0, 16 + 5);
    expect(() => parseIdx(b, 'cut')).toThrow(invalid(/cut.*truncated data.*\[2, 2, 2\] need 8 bytes.*found 5/));
  });

  it('rejects trailing bytes after the declared data', { tags: ['behaviour'] }, () => {
    expect(() => parseIdx(idxBytes([2], [1, 2, 3]), 'long')).toThrow(invalid(/long.*1 trailing bytes.*2 data bytes/));
  });

  it('rejects zero dimensions', { tags: ['behaviour'] }, () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'scalar')).toThrow(invalid(/scalar.*0 dimensions/));
  });
});
