import { readFile } from 'node:fs/promises';
import type { Backend } from '../backend/backend.js';
import { fail } from '../core/errors.js';
import { dispose } from '../core/scope.js';
import type { ImageDataset } from '../data/dataset.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import type { FrozenTrunk } from '../learn/frozen-trunk.js';
import type { LearningRule } from '../learn/rule.js';
import { checkFrozen, lastTrainable } from '../learn/segments.js';
import type { Sequential } from '../nn/sequential.js';
import { loadOnnx, ruleFromOnnx } from '../onnx/import.js';

/** `train --init FILE [--freeze N | --head-only]`. */
export interface InitArgs {
  init: string;
  freeze?: number;
  headOnly?: boolean;
}

/** The options that go with `--init`, checked before anything is read: typed errors for what does not combine. */
export function checkInitArgs(a: Partial<InitArgs> & { resume?: string }): void {
  if ((a.freeze !== undefined || a.headOnly) && !a.init)
    fail(
      'INVALID_ARGUMENT',
      `${a.headOnly ? '--head-only' : '--freeze'} freezes layers of a network given with --init`,
      'add --init model.onnx',
    );
  if (a.freeze !== undefined && a.headOnly)
    fail('INVALID_ARGUMENT', '--freeze and --head-only both say which layers to freeze', 'pass one of them');
  if (a.init && a.resume)
    fail(
      'INVALID_ARGUMENT',
      '--init starts a run from an ONNX file and --resume continues a checkpoint',
      'pass one of them (a run started with --init resumes from its --out folder)',
    );
}

const dims = (d: readonly number[]) => `[N, ${d.join(', ')}]`;
const span = (n: number) => (n === 1 ? 'layer 0' : `layers 0–${n - 1}`);

/** What a run started with `--init` trains, in words. */
export function initSummary(file: string, config: RuleConfig, frozen: number | undefined): string {
  return config.trunk
    ? `${config.rule} learns as a head on ${frozen ? span(frozen) : 'the input'} of ${file} (frozen)`
    : `${config.rule} fine-tunes the ${config.layers?.length} layers of ${file}` +
        (frozen ? ` with ${span(frozen)} frozen` : '');
}

/**
 * The rule `train --init` starts from, with the file's weights. backprop and tpsgd fine-tune the imported layers
 * (their first `--freeze N` layers, or all but the last trainable one with `--head-only`, frozen: `frozenLayers`);
 * the NoProp rules, which have no layers to take weights into, train as a head on the features of those frozen layers
 * (`trunk`), computed in this thread. `base` is the run's config (rule, seed, optimizer, options). A file whose input
 * is not the data's, or (for backprop and tpsgd) whose class count is not, is a typed error before any training.
 */
export async function ruleFromInit(
  a: InitArgs,
  base: RuleConfig,
  trainSet: ImageDataset,
  data: string,
  backend: Backend,
): Promise<{ rule: LearningRule; config: RuleConfig; notes: string[]; frozen: number | undefined }> {
  const bytes = new Uint8Array(await readFile(a.init));
  const { model, notes } = await loadOnnx(bytes, backend);
  try {
    const input = model.spec.input,
      [classes, ...more] = model.outputShape;
    if (input.length !== trainSet.shape.length || input.some((d, i) => d !== trainSet.shape[i]))
      fail(
        'SHAPE_MISMATCH',
        `${a.init} takes ${dims(input)} but ${data} gives ${dims(trainSet.shape)}`,
        input.length === 3
          ? `train it on images of that shape (an image folder: --channels ${input[0]} --image-size ${input[1]})`
          : 'train it on data of its input shape',
      );
    const frozen = a.headOnly ? lastTrainable(model) : a.freeze;
    if (frozen !== undefined) checkFrozen(model, frozen);
    const head = base.rule !== 'backprop' && base.rule !== 'tpsgd';
    if (head) return { ...headOnTrunk(a, base, model, frozen), notes, frozen };
    if (more.length || classes !== trainSet.classes)
      fail(
        'SHAPE_MISMATCH',
        `${a.init} outputs ${dims(model.outputShape)} but ${data} has ${trainSet.classes} classes`,
        `fine-tune a classifier with ${trainSet.classes} outputs, or train a NoProp head on its frozen layers ` +
          '(--rule noprop-dt --head-only), which takes the classes of the data',
      );
    // the file's layers, input shape and classes replace the config's
    const onnxBase: RuleConfig = { ...base, ...(frozen ? { frozenLayers: frozen } : {}) };
    return { ...(await ruleFromOnnx(bytes, backend, onnxBase)), frozen };
  } finally {
    dispose([...model.namedParams().values(), ...model.namedBuffers().values()]);
  }
}

/** A NoProp rule as a head on the first `frozen` layers of `model`, which keep the file's weights. */
function headOnTrunk(
  a: InitArgs,
  base: RuleConfig,
  model: Sequential,
  frozen: number | undefined,
): { rule: LearningRule; config: RuleConfig } {
  if (frozen === undefined)
    fail(
      'INVALID_ARGUMENT',
      `${base.rule} has no layers to take ${a.init}'s weights into`,
      'add --head-only or --freeze N to train it as a head on the frozen network, or fine-tune with ' +
        '--rule backprop|tpsgd',
    );
  const config: RuleConfig = { ...base, trunk: model.spec.layers.slice(0, frozen) };
  const rule = createRule(config, model.backend) as FrozenTrunk;
  rule.loadTrunk(model);
  return { rule, config };
}
