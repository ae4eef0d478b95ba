// The kernel-suite impl shared by the two onnxruntime peers: MatMul and Conv models (bench/onnx-models.mjs)
// run through an InferenceSession of the given runtime and session options.
import { matmulModel, conv2dModel } from '../onnx-models.mjs';

async function makeRunner(ort, sessionOptions, model, feeds, output = 'Y') {
  const session = await ort.InferenceSession.create(model, sessionOptions);
  let last = null;
  return {
    async run() {
      last = await session.run(feeds);
    },
    async output() {
      if (!last) last = await session.run(feeds);
      return new Float32Array(last[output].data);
    },
    dispose() {
      last = null;
      session.release?.();
    },
  };
}

export function ortImpl(name, ort, sessionOptions) {
  return {
    name,
    async matmul(M, K, N, a, b) {
      return makeRunner(ort, sessionOptions, matmulModel(M, K, N), {
        A: new ort.Tensor('float32', a, [M, K]),
        B: new ort.Tensor('float32', b, [K, N]),
      });
    },
    async model(onnx, x, shape) {
      const session = await ort.InferenceSession.create(onnx, sessionOptions);
      const [input] = session.inputNames,
        [output] = session.outputNames;
      session.release?.();
      return makeRunner(ort, sessionOptions, onnx, { [input]: new ort.Tensor('float32', x, shape) }, output);
    },
    async conv2d(spec, x, w) {
      // The weight is an initializer (pre-packed by ORT at session creation, as in a real model).
      const { N, Cin, H, W } = spec;
      return makeRunner(ort, sessionOptions, conv2dModel(spec, w), { X: new ort.Tensor('float32', x, [N, Cin, H, W]) });
    },
  };
}
