import * as lh from '../index.js';
import { nn, Rng, tidy, type Backend } from '../index.js';
import { fail } from '../core/errors.js';

/** Tensors cross threads as plain data: shape, dtype and a transferable buffer. */
export interface WireTensor {
  shape: number[];
  dtype: lh.DType;
  data: lh.TypedArray;
}

export interface StageConfig {
  spec: nn.ModelSpec;
  /** Parameter values by name (`namedParams` keys); missing ones keep their seeded initialisation. */
  params?: Record<string, Float32Array>;
  backend?: string;
  seed?: number;
}

/** One stage of a model: its layers on its own backend instance. A stage worker hosts exactly one. */
export class Stage {
  private model: nn.Sequential | null = null;
  private backend: Backend | null = null;

  async init(config: StageConfig): Promise<{ backend: string; outputShape: number[]; params: number }> {
    this.backend = await lh.createBackend(config.backend ?? 'wasm');
    this.model = new nn.Sequential(config.spec, { backend: this.backend, rng: new Rng(config.seed ?? 0) });
    this.model.setParams(config.params ?? {});
    return { backend: this.backend.flavour, outputShape: [...this.model.outputShape], params: this.model.namedParams().size };
  }

  forward(x: WireTensor): WireTensor {
    if (!this.model || !this.backend) fail('INVALID_ARGUMENT', 'stage used before init', 'call init(config) first');
    return tidy(() => {
      const y = this.model!.predict(lh.tensor(x.data, x.shape, x.dtype, this.backend!));
      return { shape: [...y.shape], dtype: y.dtype, data: y.dataSync() };
    });
  }
}
