/**
 * The README's WebGPU claims about how work reaches the device (issue 14): "dispatches are recorded into one compute
 * pass and submitted in batches" and "a training step waits for the device once, for its loss". The device's own
 * entry points (queue.submit, createCommandEncoder → beginComputePass → dispatchWorkgroups, createBuffer → mapAsync,
 * queue.onSubmittedWorkDone) are wrapped on the shared `gpu` backend and counted, so the counts are what the
 * driver saw, not what the backend says it did.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as lh from '../../../src/index.js';
import { createRule, train, type RuleConfig, type RuleName } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { gpu } from '../webgpu-backend.js';

/** `BATCH` in webgpu-backend.ts: at most this many dispatches wait in one command buffer before it is submitted. */
const BATCH = 64;
const MAP_READ = 0x1;

interface Counts {
  /** queue.submit calls, and the command buffers they carried. */
  submits: number;
  commandBuffers: number;
  /** Compute passes begun, and dispatches recorded into them. */
  passes: number;
  dispatches: number;
  /** Waits for the device: mapAsync calls (with the bytes of each mapped buffer) and onSubmittedWorkDone calls. */
  maps: number;
  mappedBytes: number[];
  workDoneWaits: number;
  /** Uploads through the backend (`write`: a batch's pixels and labels, parameters set from the CPU). */
  writes: number;
}

const zero = (): Counts => ({
  submits: 0,
  commandBuffers: 0,
  passes: 0,
  dispatches: 0,
  maps: 0,
  mappedBytes: [],
  workDoneWaits: 0,
  writes: 0,
});

/** Counts what reaches `gpu.device` from now on (until afterEach restores the spies); `take()` reads and resets. */
function instrument() {
  let c = zero();
  const { device } = gpu;
  const { queue } = device;
  const submit = queue.submit.bind(queue),
    workDone = queue.onSubmittedWorkDone.bind(queue),
    createEncoder = device.createCommandEncoder.bind(device),
    createBuffer = device.createBuffer.bind(device);
  vi.spyOn(queue, 'submit').mockImplementation((buffers) => {
    const list = [...buffers];
    c.submits++;
    c.commandBuffers += list.length;
    submit(list);
  });
  vi.spyOn(queue, 'onSubmittedWorkDone').mockImplementation(() => {
    c.workDoneWaits++;
    return workDone();
  });
  vi.spyOn(device, 'createCommandEncoder').mockImplementation((descriptor) => {
    const encoder = createEncoder(descriptor);
    const begin = encoder.beginComputePass.bind(encoder);
    encoder.beginComputePass = (passDescriptor) => {
      c.passes++;
      const pass = begin(passDescriptor);
      const dispatch = pass.dispatchWorkgroups.bind(pass);
      pass.dispatchWorkgroups = (x, y, z) => {
        c.dispatches++;
        dispatch(x, y, z);
      };
      return pass;
    };
    return encoder;
  });
  vi.spyOn(device, 'createBuffer').mockImplementation((descriptor) => {
    const buffer = createBuffer(descriptor);
    if (descriptor.usage & MAP_READ) {
      const map = buffer.mapAsync.bind(buffer);
      buffer.mapAsync = (mode, offset, size) => {
        c.maps++;
        c.mappedBytes.push(buffer.size);
        return map(mode, offset, size);
      };
    }
    return buffer;
  });
  const write = gpu.write.bind(gpu);
  vi.spyOn(gpu, 'write').mockImplementation((storage, values) => {
    c.writes++;
    write(storage, values);
  });
  return {
    now: (): Readonly<Counts> => c,
    take: (): Counts => {
      const taken = c;
      c = zero();
      return taken;
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('webgpu: dispatches are recorded into one compute pass and submitted in batches', {
  tags: ['invariant'],
}, () => {
  it('200 kernels in a row: no submit before a batch fills, one per full batch, one for the read', async () => {
    const x = lh.tensor(new Float32Array(1000).fill(0.1), [1000], 'float32', gpu);
    await gpu.sync(); // the upload is on the queue before counting starts
    const counts = instrument();
    let y = x;
    const step = () => {
      const z = lh.tanh(y);
      if (y !== x) y.dispose();
      y = z;
    };
    for (let k = 0; k < BATCH - 1; k++) step();
    expect(counts.now().dispatches, 'one kernel per tanh').toBe(BATCH - 1);
    expect(counts.now().submits, 'recorded, not yet submitted').toBe(0);
    for (let k = BATCH - 1; k < 200; k++) step();
    expect(counts.now().dispatches).toBe(200);
    expect(counts.now().submits, 'one submit per full batch').toBe(Math.floor(200 / BATCH));
    expect(counts.now().maps, 'no wait before the read').toBe(0);
    const values = await y.data();
    const c = counts.take();
    expect(c.submits, 'the read submits the rest once').toBe(Math.floor(200 / BATCH) + 1);
    expect(c.commandBuffers).toBe(c.submits);
    expect(c.passes, 'one compute pass per command buffer').toBe(c.submits);
    expect(c.maps).toBe(1);
    expect(c.workDoneWaits, 'no other wait').toBe(0);
    let expected = 0.1;
    for (let k = 0; k < 200; k++) expected = Math.tanh(expected);
    expect(values[0]).toBeCloseTo(expected, 5);
    x.dispose();
    y.dispose();
  });
});

const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 64),
  testSet = subset(mnist.test, 0, 16);
const BATCH_SIZE = 16;

describe.each(['backprop', 'tpsgd', 'noprop-dt'] satisfies RuleName[])(
  'webgpu: a %s training step',
  { tags: ['invariant'] },
  (rule) => {
    const name =
      'waits for the device once (for its 4-byte loss) and submits in batches, far fewer times than it dispatches';
    it(name, async () => {
      const config: RuleConfig = {
        rule,
        model: 'mlp',
        inputShape: [1, 28, 28],
        classes: 10,
        seed: 1,
        optimizer: { type: 'adam', lr: 1e-3 },
        noprop: { T: 2 },
      };
      const r = createRule(config, gpu);
      await gpu.sync(); // the initial weights are uploaded before counting starts
      const counts = instrument();
      const steps: Counts[] = [];
      const losses: number[] = [];
      // onProgress runs once per step, after the step's loss has been read: what was counted since is that step
      await train(r, trainSet, testSet, {
        epochs: 1,
        batchSize: BATCH_SIZE,
        seed: 1,
        lr: 1e-3,
        onProgress: (p) => {
          steps.push(counts.take());
          losses.push(p.loss);
        },
      });
      r.dispose();
      expect(steps).toHaveLength(trainSet.count / BATCH_SIZE);
      steps.forEach((c, k) => {
        const at = `step ${k}: ${JSON.stringify(c)}`;
        expect(c.maps, `${at}: one read-back`).toBe(1);
        expect(c.mappedBytes, `${at}: of the scalar loss`).toEqual([4]);
        expect(c.workDoneWaits, `${at}: no other wait`).toBe(0);
        expect(c.dispatches, at).toBeGreaterThan(20);
        // a submit when a batch of dispatches fills, when an upload must see the recorded work (the batch's pixels
        // and labels), and once for the loss's read-back: never one per kernel
        expect(c.submits, at).toBeLessThanOrEqual(Math.floor(c.dispatches / BATCH) + c.writes + 1);
        expect(c.submits * 16, `${at}: far fewer submits than dispatches`).toBeLessThanOrEqual(c.dispatches);
        expect(c.commandBuffers, at).toBe(c.submits);
        expect(c.passes, `${at}: at most one compute pass per command buffer`).toBeLessThanOrEqual(c.commandBuffers);
      });
      expect(losses.every(Number.isFinite)).toBe(true);
    });
  },
);
