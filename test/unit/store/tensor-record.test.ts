import { describe, expect, it } from 'vitest';
import { tensor } from '../../../src/index.js';
import { decodeTensors, encodeTensors } from '../../../src/store/tensor-record.js';
import { js } from '../helpers.js';

describe('tensor records (checkpoint data)', () => {
  it('round-trips float32, int32 and uint8 tensors with their shapes, 8-byte aligned', () => {
    const tensors = new Map([
      ['w', tensor(Float32Array.from([1.5, -2, 3e-8]), [3], 'float32', js)],
      ['idx', tensor(Int32Array.from([7, -1]), [1, 2], 'int32', js)],
      ['px', tensor(Uint8Array.from([0, 255, 9]), [3], 'uint8', js)],
    ]);
    const { index, data } = encodeTensors(tensors);
    expect(index.map((e) => [e.name, e.offset % 8, e.shape])).toEqual([['w', 0, [3]], ['idx', 0, [1, 2]], ['px', 0, [3]]]);
    const back = decodeTensors(index, data, 'test');
    expect(Array.from(back.get('w')!)).toEqual(Array.from(Float32Array.from([1.5, -2, 3e-8])));
    expect(back.get('idx')).toEqual(Int32Array.from([7, -1]));
    expect(back.get('px')).toEqual(Uint8Array.from([0, 255, 9]));
  });

  it('truncated data is a typed error naming the tensor', () => {
    const { index, data } = encodeTensors(new Map([['a', tensor([1, 2], [2], 'float32', js)], ['b', tensor([3, 4], [2], 'float32', js)]]));
    expect(() => decodeTensors(index, data.subarray(0, 12), 'ck/tensors.bin')).toThrow(/ck\/tensors.bin: tensor 'b' needs bytes 8–16 but the data holds 12/);
  });
});
