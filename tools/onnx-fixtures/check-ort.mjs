#!/usr/bin/env node
// Cross-check of the fixtures against onnxruntime-node (a dev dependency): for every test/fixtures/onnx/*.onnx, runs
// ORT on its .json input and prints max |ORT - torch| (fails over 1e-4). Also runs batch 1 (the first sample) to show
// the batch dimension is really dynamic. Not a test: a manual check after make.sh.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

const dir = fileURLToPath(new URL('../../test/fixtures/onnx/', import.meta.url));
const TOL = 1e-4;
let bad = 0;
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.onnx'))
  .sort()) {
  const meta = JSON.parse(readFileSync(join(dir, file.replace(/\.onnx$/, '.json')), 'utf8'));
  const session = await ort.InferenceSession.create(join(dir, file));
  const run = async (shape, data) => {
    const feed = new ort.Tensor('float32', Float32Array.from(data), shape);
    const out = await session.run({ [session.inputNames[0]]: feed });
    return out[session.outputNames[0]];
  };
  const { shape, data } = meta.input;
  const y = await run(shape, data);
  const per = data.length / shape[0];
  const y1 = await run([1, ...shape.slice(1)], data.slice(0, per));
  let max = 0;
  y.data.forEach((v, i) => {
    max = Math.max(max, Math.abs(v - meta.torch[i]));
  });
  let max1 = 0;
  y1.data.forEach((v, i) => {
    max1 = Math.max(max1, Math.abs(v - meta.torch[i]));
  });
  const shapeOk = JSON.stringify(y.dims) === JSON.stringify(meta.outputShape);
  const ok = shapeOk && max <= TOL && max1 <= TOL && y.data.length === meta.torch.length;
  if (!ok) bad++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${file.padEnd(36)} opset ${meta.opset}  max|Δ| ${max.toExponential(2)}  ` +
      `(batch 1: ${max1.toExponential(2)})  out [${y.dims}]`,
  );
}
process.exit(bad ? 1 : 0);
