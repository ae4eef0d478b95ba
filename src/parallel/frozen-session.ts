import { fail } from '../core/errors.js';

/** What a frozen stage needs of onnxruntime-web (or -node): sessions over float32 tensors. */
interface Ort {
  env: { wasm: { numThreads?: number; proxy?: boolean } };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: { create(bytes: Uint8Array): Promise<Session> };
}
interface Session {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

export interface FrozenOptions {
  /**
   * Where onnxruntime-web's ES module is: a browser worker cannot resolve the bare name, so pass the served file
   * (e.g. '/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs'); in Node the default 'onnxruntime-web' resolves.
   */
  ortUrl?: string;
}

/**
 * An ONNX model run by onnxruntime (single-threaded wasm inside this worker) on float32 batches: the frozen
 * feature extractor of a "personalise the last layers" stage. One input, one output.
 */
export class FrozenSession {
  private constructor(
    private ort: Ort,
    private session: Session,
  ) {}

  static async open(bytes: Uint8Array, o: FrozenOptions = {}): Promise<FrozenSession> {
    const url = o.ortUrl ?? 'onnxruntime-web';
    let ort: Ort;
    try {
      ort = (await import(/* @vite-ignore */ url)) as Ort;
    } catch (e) {
      return fail(
        'BACKEND_UNAVAILABLE',
        `onnxruntime-web could not be loaded from ${url} (${(e as Error).message})`,
        'install onnxruntime-web, or pass ortUrl: the URL of its dist/ort.wasm.min.mjs',
      );
    }
    ort.env.wasm.numThreads = 1; // the stage is the thread; no nested workers
    let session: Session;
    try {
      session = await ort.InferenceSession.create(bytes);
    } catch (e) {
      return fail(
        'DATA_INVALID',
        `onnxruntime refused the frozen model (${(e as Error).message})`,
        'pass the bytes of a valid .onnx file',
      );
    }
    if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
      await session.release();
      fail(
        'INVALID_ARGUMENT',
        `a frozen stage takes one input and one output; this model has inputs [${session.inputNames.join(', ')}] ` +
          `and outputs [${session.outputNames.join(', ')}]`,
        'export the feature extractor alone (exportOnnx with upTo)',
      );
    }
    return new FrozenSession(ort, session);
  }

  /** The model's output for a batch laid out as `shape` ([N, ...sample]). */
  async run(x: Float32Array, shape: number[]): Promise<{ data: Float32Array; shape: number[] }> {
    const out = (await this.session.run({ [this.session.inputNames[0]]: new this.ort.Tensor('float32', x, shape) }))[
      this.session.outputNames[0]
    ];
    if (!(out.data instanceof Float32Array))
      fail('DATA_INVALID', "the frozen model's output is not float32", 'export a float32 feature extractor');
    return { data: out.data, shape: [...out.dims] };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
