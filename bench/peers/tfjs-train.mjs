// Peer for the `learning` suite: the reference MLP (784-512-512-10, tanh) trained by backprop with
// @tensorflow/tfjs-core + @tensorflow/tfjs-backend-wasm (single thread, SIMD build; initialised by
// peers/tfjs-wasm.mjs). Settings in bench/learning-settings.mjs (TFJS_SETTINGS).
//
// One step: tf.tidy(() => { variableGrads(loss) ; optimizer.applyGradients(grads) }) — every tensor made in
// the step is freed when it ends; the loss is read back each step (as layerhive's rules do). Pixels are
// normalised per batch with the same lookup table as layerhive ((v/255 − mean)/std, float32), labels one-hot.
// Seconds per epoch count the training steps only, not the test pass (as layerhive's train()).
// Gradients: tfjs-core's Node entry registers none; importing the union package @tensorflow/tfjs registers
// tfjs's own gradient functions for every op (a devDependency for this reason).
// Peak tensor memory: tf.memory().numBytes sampled inside each step after the gradients (every forward and
// backward intermediate of the step still alive) and after the update; tfjs keeps no peak of its own.
import * as tfAll from '@tensorflow/tfjs-core';
import { tfjsWasmImpl } from './tfjs-wasm.mjs';
import '@tensorflow/tfjs';
import { mulberry32 } from '../random.mjs';

const tf = tfAll.default?.matMul ? tfAll.default : tfAll;

function lookupTable({ mean, std }) {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = (v / 255 - mean) / std;
  return t;
}

function shuffled(count, rand) {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * Train and evaluate. train/test: { images: Uint8Array (count·784), labels: Uint8Array, count }.
 * o: { epochs, batchSize, lr, normalization, seed, epsilon, onEpoch?(report) }.
 * Returns { epochs: [{ epoch, testAccuracy, trainLoss, seconds, samplesPerSecond }], peakTensorBytes, backend,
 * version }.
 */
export async function trainTfjsMlp(trainSet, testSet, o) {
  await tfjsWasmImpl(); // sets the wasm backend (1 thread) once
  if (tf.getBackend() !== 'wasm') throw new Error(`tfjs backend is ${tf.getBackend()}, not wasm`);
  const D = 784,
    H = 512,
    C = 10;
  const table = lookupTable(o.normalization);
  const rand = mulberry32(o.seed);
  const seedBase = o.seed * 1000;

  const he = (fanIn, fanOut, k) =>
    tf.variable(tf.randomNormal([fanIn, fanOut], 0, Math.sqrt(2 / fanIn), 'float32', seedBase + k));
  const w1 = he(D, H, 1),
    b1 = tf.variable(tf.zeros([H]));
  const w2 = he(H, H, 2),
    b2 = tf.variable(tf.zeros([H]));
  const w3 = he(H, C, 3),
    b3 = tf.variable(tf.zeros([C]));
  const vars = [w1, b1, w2, b2, w3, b3];
  const logitsOf = (x) =>
    tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2), b2)), w3), b3);
  const optimizer = tf.train.adam(o.lr, 0.9, 0.999, o.epsilon);

  const batchOf = (ds, idx, from, n, buf) => {
    const x = buf.subarray(0, n * D);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = idx ? idx[from + i] : from + i;
      const px = ds.images.subarray(s * D, (s + 1) * D);
      for (let p = 0; p < D; p++) x[i * D + p] = table[px[p]];
      y[i] = ds.labels[s];
    }
    return { x, y };
  };

  const evaluate = () => {
    const buf = new Float32Array(256 * D);
    let correct = 0;
    for (let from = 0; from < testSet.count; from += 256) {
      const n = Math.min(256, testSet.count - from);
      const { x, y } = batchOf(testSet, null, from, n, buf);
      const pred = tf.tidy(() => tf.argMax(logitsOf(tf.tensor2d(x, [n, D])), -1).dataSync());
      for (let i = 0; i < n; i++) if (pred[i] === y[i]) correct++;
    }
    return correct / testSet.count;
  };

  const B = o.batchSize;
  const batches = Math.ceil(trainSet.count / B);
  const totalSteps = o.epochs * batches;
  const buf = new Float32Array(B * D);
  let step = 0;
  let peak = tf.memory().numBytes;
  const reports = [];
  try {
    for (let e = 0; e < o.epochs; e++) {
      const order = shuffled(trainSet.count, rand);
      const t0 = performance.now();
      let lossSum = 0;
      for (let bi = 0; bi < batches; bi++) {
        const from = bi * B,
          n = Math.min(B, trainSet.count - from);
        const { x, y } = batchOf(trainSet, order, from, n, buf);
        optimizer.learningRate = 0.5 * o.lr * (1 + Math.cos(Math.PI * Math.min(1, step++ / totalSteps)));
        const loss = tf.tidy(() => {
          const xt = tf.tensor2d(x, [n, D]);
          const yt = tf.oneHot(tf.tensor1d(y, 'int32'), C);
          const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yt, logitsOf(xt)), vars);
          peak = Math.max(peak, tf.memory().numBytes);
          optimizer.applyGradients(grads);
          peak = Math.max(peak, tf.memory().numBytes);
          return value.dataSync()[0];
        });
        lossSum += loss * n;
      }
      const seconds = (performance.now() - t0) / 1000;
      const report = {
        epoch: e,
        trainLoss: lossSum / trainSet.count,
        testAccuracy: evaluate(),
        seconds,
        samplesPerSecond: trainSet.count / seconds,
      };
      reports.push(report);
      o.onEpoch?.(report);
      await new Promise((r) => setTimeout(r, 0));
    }
  } finally {
    optimizer.dispose();
    for (const v of vars) v.dispose();
  }
  return { epochs: reports, peakTensorBytes: peak, backend: tf.getBackend(), version: tf.version_core };
}
