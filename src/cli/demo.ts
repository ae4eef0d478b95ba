import * as lh from '../index.js';
import { nn, Rng, tidy } from '../index.js';

/** The NoProp image path as a plain CNN: conv 32/64/128 with pooling, the block the later issues train. */
export const demoSpec: nn.ModelSpec = {
  input: [1, 28, 28],
  layers: [
    { type: 'conv2d', filters: 32, kernel: 3, pad: 1 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'conv2d', filters: 64, kernel: 3, pad: 1 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'conv2d', filters: 128, kernel: 3, pad: 1 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 128 },
    { type: 'batchnorm' },
    { type: 'relu' },
    { type: 'dense', units: 10 },
  ],
};

export interface DemoRow {
  backend: string;
  batch: number;
  ms: number;
  imagesPerSecond: number;
  maxAbsDiffVsJs: number;
  unavailable?: string;
}

/** One forward pass of the demo CNN on every backend, same weights and input, timed and compared with js. */
export async function runDemo(batch = 16, seed = 0): Promise<DemoRow[]> {
  const names = lh.registeredBackends();
  const rows: DemoRow[] = [];
  let reference: Float32Array | null = null;
  for (const name of ['js', ...names.filter((n) => n !== 'js')]) {
    let backend: lh.Backend;
    try {
      backend = await lh.createBackend(name);
    } catch (e) {
      // `info` says why (no WebGPU adapter, say); the other backends still run
      rows.push({
        backend: name,
        batch,
        ms: Number.NaN,
        imagesPerSecond: Number.NaN,
        maxAbsDiffVsJs: Number.NaN,
        unavailable: e instanceof Error ? e.message : String(e),
      });
      continue;
    }
    try {
      const model = new nn.Sequential(demoSpec, { backend, rng: new Rng(seed) });
      const x = lh.randomUniform([batch, ...demoSpec.input], Rng.stream(seed, 'demo/input'), 0, 1, backend);
      const warm = model.predict(x); // warm-up (compiles, sizes the heap); read, so a GPU has finished it too
      await warm.data();
      warm.dispose();
      const t0 = performance.now();
      const y = tidy(() => lh.softmax(model.predict(x)));
      const out = (await y.data()) as Float32Array; // asynchronous: WebGPU reads cannot be synchronous
      const ms = performance.now() - t0;
      reference ??= out;
      let diff = 0;
      for (let i = 0; i < out.length; i++) diff = Math.max(diff, Math.abs(out[i] - reference[i]));
      rows.push({ backend: backend.flavour, batch, ms, imagesPerSecond: (batch * 1000) / ms, maxAbsDiffVsJs: diff });
      lh.dispose([x, y, ...model.namedParams().values(), ...model.namedBuffers().values()]);
    } finally {
      backend.destroy?.(); // a WebGPU device is not left behind
    }
  }
  return rows;
}
