import type { Tensor } from '../core/tensor.js';
import type { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import { tidy } from '../core/scope.js';
import { assign, tensor } from '../ops/index.js';
import type { Optimizer } from './optim/index.js';

/** A tensor as plain data (what crosses threads and what a snapshot holds). */
export interface PlainTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Everything a parameter group needs to go on training exactly where it stopped: its parameters (and
 * learned embedding), its optimizer's moments and step count, and its random stream.
 */
export interface GroupState {
  tensors: Record<string, PlainTensor>;
  optimizer: { steps: number; slots: Record<string, PlainTensor> };
  rng: number[] | null;
}

const plain = async (t: Tensor): Promise<PlainTensor> => ({
  shape: [...t.shape],
  data: Float32Array.from((await t.data()) as Float32Array),
});
/** Named tensors as plain data (read from the device). */
export const plainTensors = async (m: ReadonlyMap<string, Tensor>): Promise<Record<string, PlainTensor>> =>
  Object.fromEntries(await Promise.all([...m].map(async ([k, t]) => [k, await plain(t)] as const)));

export async function saveGroupState(
  tensors: ReadonlyMap<string, Tensor>,
  optimizer: Optimizer,
  rng: Rng | null,
): Promise<GroupState> {
  // the step count and random state are taken before the first await: nothing may train in between
  const steps = optimizer.steps,
    rngState = rng ? rng.getState() : null;
  return {
    tensors: await plainTensors(tensors),
    // an 8-bit optimizer's packed codes are not float32 values: it reads them out itself
    optimizer: { steps, slots: await (optimizer.readSlots?.() ?? plainTensors(optimizer.stateTensors())) },
    rng: rngState,
  };
}

/** Writes a saved state back in place; a missing or mis-shaped tensor is an error that changes nothing. */
export function loadGroupState(
  group: string,
  s: GroupState,
  tensors: ReadonlyMap<string, Tensor>,
  optimizer: Optimizer,
  rng: Rng | null,
): void {
  for (const [k, t] of tensors) {
    const v = s.tensors[k];
    if (!v || v.data.length !== t.size) {
      fail(
        'DATA_INVALID',
        `the saved state of group '${group}' ` +
          (v ? `has ${v.data.length} values for '${k}', not ${t.size}` : `lacks tensor '${k}'`),
        'restore a state saved from the same model configuration',
      );
    }
  }
  tidy(() => {
    for (const [k, t] of tensors) assign(t, tensor(s.tensors[k].data, t.shape, 'float32', t.backend));
  });
  optimizer.restore(s.optimizer.steps, s.optimizer.slots, tensors);
  if (rng && s.rng) rng.setState(s.rng);
}
