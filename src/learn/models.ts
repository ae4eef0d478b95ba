import type { ModelSpec } from '../nn/sequential.js';
import type { LayerSpec } from '../nn/layer.js';
import { fail } from '../core/errors.js';

export const modelNames = ['mlp', 'cnn'] as const;
export type ModelName = (typeof modelNames)[number];

/** The two reference architectures for image classification, for any [C, H, W] input and class count. */
export function modelSpec(name: ModelName, input: number[], classes: number): ModelSpec {
  const head: LayerSpec[] = [{ type: 'dense', units: classes }];
  switch (name) {
    case 'mlp':
      return { input, layers: [{ type: 'flatten' }, { type: 'dense', units: 512 }, { type: 'relu' }, { type: 'dense', units: 512 }, { type: 'relu' }, ...head] };
    case 'cnn':
      return {
        input, layers: [
          { type: 'conv2d', filters: 32, kernel: 3, pad: 1 }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 },
          { type: 'conv2d', filters: 64, kernel: 3, pad: 1 }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 },
          { type: 'flatten' }, { type: 'dense', units: 128 }, { type: 'relu' }, ...head,
        ],
      };
    default:
      return fail('INVALID_ARGUMENT', `unknown model ${JSON.stringify(name)}`, `use one of: ${modelNames.join(', ')}`);
  }
}
