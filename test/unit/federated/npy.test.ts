// @module-tag outside
// The .npy codec against NumPy itself (the venv's numpy, from tools/ensure-flower.mjs): arrays numpy writes are read
// here, and arrays written here are read by numpy, for every dtype and several shapes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFlower } from '../../../tools/ensure-flower.mjs';
import { decodeNpy, encodeNpy, type NpyDtype, npyDtypes } from '../../../src/federated/npy.js';

const shapes = [[], [5], [2, 3], [2, 3, 4], [0, 3]];
let python = '';
const dir = mkdtempSync(join(tmpdir(), 'layerhive-npy-'));
const py = (code: string) => execFileSync(python, ['-c', code], { encoding: 'utf8' });

describe('.npy codec', () => {
  beforeAll(() => {
    python = join(ensureFlower(), 'bin/python');
  }, 600_000);

  it('reads what numpy.save writes (every dtype, C and Fortran order, big-endian)', () => {
    py(`
import numpy as np, json
out = []
for dt in ${JSON.stringify(Object.keys(npyDtypes))}:
    for i, shape in enumerate(${JSON.stringify(shapes)}):
        off = 0 if dt.startswith('u') or dt == 'bool' else 3
        a = (np.arange(int(np.prod(shape))) % 7 - off).astype(dt).reshape(shape)
        np.save('${dir}/%s-%d.npy' % (dt, i), a)
np.save('${dir}/fortran.npy', np.asfortranarray(np.arange(6, dtype='float32').reshape(2, 3)))
np.save('${dir}/big.npy', np.arange(4, dtype='>f8'))
`);
    for (const dt of Object.keys(npyDtypes) as NpyDtype[])
      shapes.forEach((shape, i) => {
        const a = decodeNpy(Uint8Array.from(readFileSync(join(dir, `${dt}-${i}.npy`))));
        const n = shape.reduce((x, y) => x * y, 1);
        const offset = dt.startsWith('u') || dt === 'bool' ? 0 : 3;
        const expected = Array.from({ length: n }, (_, k) =>
          dt === 'bool' ? (k % 7 !== 0 ? 1 : 0) : (k % 7) - offset,
        );
        expect([a.dtype, a.shape]).toEqual([dt, shape]);
        expect(Array.from(a.data, Number)).toEqual(expected);
      });
    expect(Array.from(decodeNpy(Uint8Array.from(readFileSync(join(dir, 'fortran.npy')))).data, Number)).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    const big = decodeNpy(Uint8Array.from(readFileSync(join(dir, 'big.npy'))));
    expect([big.dtype, Array.from(big.data, Number)]).toEqual(['float64', [0, 1, 2, 3]]);
  });

  it('writes what numpy.load reads back exactly', () => {
    const written: Record<string, { shape: number[]; values: number[] }> = {};
    for (const dt of Object.keys(npyDtypes) as NpyDtype[])
      shapes.forEach((shape, i) => {
        const n = shape.reduce((x, y) => x * y, 1);
        const values = Array.from({ length: n }, (_, k) =>
          dt === 'bool' ? k % 2 : (k % 5) + (dt.startsWith('float') ? 0.5 : 0),
        );
        const C = {
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
        }[dt];
        const data =
          dt.endsWith('64') && !dt.startsWith('float')
            ? new C(values.map((v) => BigInt(v)) as never)
            : new C(values as never);
        writeFileSync(join(dir, `ours-${dt}-${i}.npy`), encodeNpy({ dtype: dt, shape, data }));
        written[`${dt}-${i}`] = { shape, values };
      });
    const out = JSON.parse(
      py(`
import numpy as np, json, glob, os
r = {}
for f in glob.glob('${dir}/ours-*.npy'):
    a = np.load(f, allow_pickle=False)
    values = [float(x) for x in a.ravel()]
    r[os.path.basename(f)[5:-4]] = {'dtype': str(a.dtype), 'shape': list(a.shape), 'values': values}
print(json.dumps(r))
`),
    );
    for (const [key, w] of Object.entries(written)) {
      expect(out[key].dtype).toBe(key.slice(0, key.lastIndexOf('-')));
      expect(out[key].shape).toEqual(w.shape);
      expect(out[key].values).toEqual(w.values);
    }
  });
});
