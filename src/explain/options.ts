import { fail } from '../core/errors.js';
import { layerMethodNames, methodNames, type BatchExplainOptions, type ExplainMethod } from './types.js';

/** The options that count something, each the thing the name says. */
export type CountName = 'steps' | 'noiseSamples' | 'nSamples';

/** The count each method takes (the others take none) and its default. */
export const methodCounts: Partial<Record<ExplainMethod, { name: CountName; fallback: number }>> = {
  'integrated-gradients': { name: 'steps', fallback: 64 },
  'layer-integrated-gradients': { name: 'steps', fallback: 64 },
  'neuron-integrated-gradients': { name: 'steps', fallback: 64 },
  smoothgrad: { name: 'noiseSamples', fallback: 50 },
  'smoothgrad-sq': { name: 'noiseSamples', fallback: 50 },
  vargrad: { name: 'noiseSamples', fallback: 50 },
  'smooth-grad-cam++': { name: 'noiseSamples', fallback: 25 },
  'gradient-shap': { name: 'nSamples', fallback: 50 },
  'kernel-shap': { name: 'nSamples', fallback: 2048 },
  lime: { name: 'nSamples', fallback: 1000 },
  rise: { name: 'nSamples', fallback: 2000 },
};

/** What each count counts, for the messages. */
const counted: Record<CountName, string> = {
  steps: "the IG methods' integration points",
  noiseSamples: "the SmoothGrad family's and Smooth Grad-CAM++'s noisy copies",
  nSamples: 'GradientSHAP, KernelSHAP, LIME and RISE draws',
};

const optionNames = [
  'method',
  'target',
  'baseline',
  'steps',
  'integration',
  'noiseSamples',
  'nSamples',
  'samples',
  'noise',
  'noiseShare',
  'guidedActivations',
  'window',
  'stride',
  'featureMask',
  'background',
  'layer',
  'neuron',
  'seed',
  'batchSize',
] as const;

/** Captum's and shap's names (and near misses) of our options, for the hint when one of them is passed. */
const otherNames: Record<string, string> = {
  nSteps: 'steps',
  n_steps: 'steps',
  nt_samples: 'noiseSamples',
  ntSamples: 'noiseSamples',
  n_samples: 'nSamples',
  nsamples: 'nSamples',
  stdevs: 'noise',
  baselines: 'baseline',
  feature_mask: 'featureMask',
  sliding_window_shapes: 'window',
  slidingWindowShapes: 'window',
  strides: 'stride',
  internal_batch_size: 'batchSize',
  internalBatchSize: 'batchSize',
  perturbations_per_eval: 'batchSize',
  perturbationsPerEval: 'batchSize',
  method_: 'integration',
  neuron_selector: 'neuron',
  neuronSelector: 'neuron',
};

/** Methods attributing at a layer's output, and methods explaining one unit of a layer: both need `layer`. */
export const layerMethods: readonly ExplainMethod[] = ['layer-integrated-gradients', 'layer-gradient-x-activation'];
export const neuronMethods: readonly ExplainMethod[] = ['neuron-integrated-gradients', 'neuron-gradient'];

/** A `neuron` option as a flat index into a layer output of `shape` (checked by `checkOptions`). */
export function neuronIndex(neuron: number | readonly number[], shape: readonly number[]): number {
  if (typeof neuron === 'number') return neuron;
  return neuron.reduce((flat, i, k) => flat * shape[k] + i, 0);
}

/** A value as a message shows it: short, typed arrays by kind and length. */
export function show(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as unknown as ArrayLike<number>).length}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object' || v === null) return String(v);
  if (Array.isArray(v) && v.some((e) => ArrayBuffer.isView(e))) return `an array of ${v.length}`;
  const j = JSON.stringify(v);
  return j.length > 60 ? `${j.slice(0, 57)}…` : j;
}

const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const allFinite = (a: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
};

/** One number for both axes or [h, w], whole numbers ≥ 1 (checked by `checkOptions`). */
export function axes(v: number | readonly number[] | undefined, fallback: [number, number]): [number, number] {
  if (v === undefined) return fallback;
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** What `checkOptions` checks the options against. */
export interface OptionContext {
  inputShape: readonly number[];
  classes: number;
  /** Inputs in the batch; null for one input (then `target` is one number). */
  batch: number | null;
  /** The model's layers by name, where it has layers. */
  layerNames?: readonly string[];
  /** Each layer's output shape, where it has layers. */
  layerShapes?: readonly (readonly number[])[];
}

/**
 * Every option given, checked before any model call: a typed INVALID_ARGUMENT (SHAPE_MISMATCH for an array of
 * the wrong length, NON_FINITE for a NaN inside one) that names the option and shows an accepted value.
 */
export function checkOptions(o: BatchExplainOptions, c: OptionContext): void {
  if (typeof o !== 'object' || o === null)
    fail('INVALID_ARGUMENT', `the options are ${show(o)}, not an object`, "pass e.g. { method: 'saliency' }");
  const method = o.method;
  const every: readonly string[] = [...methodNames, ...layerMethodNames];
  if (!every.includes(method))
    fail('INVALID_ARGUMENT', `unknown method ${show(method)}`, `use one of: ${every.join(', ')}`);
  const per = c.inputShape.reduce((p, d) => p * d, 1);
  const hw = c.inputShape.length >= 2 ? c.inputShape.at(-1)! * c.inputShape.at(-2)! : per;
  const opts = o as unknown as Record<string, unknown>;
  for (const key of Object.keys(opts)) {
    if ((optionNames as readonly string[]).includes(key)) continue;
    const ours = otherNames[key];
    fail(
      'INVALID_ARGUMENT',
      `${method}: unknown option ${key}`,
      ours ? `layerhive calls it ${ours}` : `the options are: ${optionNames.join(', ')}`,
    );
  }
  const bad = (
    name: string,
    what: string,
    example: string,
    code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH' = 'INVALID_ARGUMENT',
  ) => fail(code, `${method}: option ${name} ${show(opts[name])} ${what}`, `pass e.g. ${name}: ${example}`);
  const given = (name: string) => opts[name] !== undefined;

  if (given('target')) {
    const classOk = (t: unknown) => typeof t === 'number' && Number.isInteger(t) && t >= 0 && t < c.classes;
    const t = opts.target;
    if (c.batch === null || !Array.isArray(t)) {
      if (!classOk(t))
        bad(
          'target',
          `is not a class index in [0, ${c.classes})`,
          c.batch === null ? '0' : `0 or [${'0, '.repeat(c.batch - 1)}0]`,
        );
    } else if (t.length !== c.batch)
      bad(
        'target',
        `has ${t.length} classes for ${c.batch} inputs`,
        `one class for all, or ${c.batch} of them`,
        'SHAPE_MISMATCH',
      );
    else if (!t.every(classOk))
      bad('target', `holds a class outside [0, ${c.classes})`, `[${t.map(() => 0).join(', ')}]`);
  }
  if (given('baseline')) {
    const b = opts.baseline;
    if (typeof b === 'number') {
      if (!Number.isFinite(b)) bad('baseline', 'is not finite', '0');
    } else if (!(b instanceof Float32Array)) bad('baseline', 'is neither a number nor a Float32Array', '0');
    else if (b.length !== per)
      bad('baseline', `does not have the input's ${per} values`, `new Float32Array(${per})`, 'SHAPE_MISMATCH');
    else if (!allFinite(b)) bad('baseline', 'holds values that are not finite', `new Float32Array(${per})`);
  }
  const count = methodCounts[method];
  for (const name of ['steps', 'noiseSamples', 'nSamples', 'samples'] as const) {
    if (!given(name)) continue;
    if (!isCount(opts[name])) bad(name, 'is not a whole number ≥ 1', String(count?.fallback ?? 50));
    if (name !== 'samples' && count?.name !== name)
      fail(
        'INVALID_ARGUMENT',
        `${method} takes no option ${name} (${counted[name]})`,
        count ? `its count is ${count.name}, e.g. ${count.name}: ${count.fallback}` : `${method} counts nothing`,
      );
  }
  if (count && given('samples') && given(count.name) && opts.samples !== opts[count.name])
    fail(
      'INVALID_ARGUMENT',
      `${method}: samples ${show(opts.samples)} and ${count.name} ${show(opts[count.name])} disagree`,
      `samples is the old name of ${count.name}: pass ${count.name} only`,
    );
  const oneOf = (name: string, values: readonly string[]) => {
    if (given(name) && !values.includes(opts[name] as string))
      bad(name, `is not one of ${values.map((v) => `'${v}'`).join(', ')}`, `'${values[0]}'`);
  };
  oneOf('integration', ['gauss-legendre', 'riemann']);
  oneOf('guidedActivations', ['relu', 'all']);
  for (const name of ['noise', 'noiseShare']) {
    const v = opts[name];
    if (given(name) && !(typeof v === 'number' && Number.isFinite(v) && v >= 0))
      bad(name, 'is not a finite number ≥ 0', name === 'noise' ? '1' : '0.15');
  }
  for (const name of ['window', 'stride']) {
    const v = opts[name];
    const pair = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : [];
    if (given(name) && !(pair.length === 2 && pair.every((d) => Number.isInteger(d) && d >= 1)))
      bad(name, 'is not one whole number ≥ 1 or a pair [h, w] of them', `3 or ${name}: [3, 3]`);
  }
  if (given('featureMask')) {
    const m = opts.featureMask;
    if (!(m instanceof Int32Array)) bad('featureMask', 'is not an Int32Array of group ids', `new Int32Array(${per})`);
    else if (m.length !== per && m.length !== hw)
      bad(
        'featureMask',
        `fits neither the input (${per}) nor its pixels (${hw})`,
        `new Int32Array(${hw}) (a group id per pixel)`,
        'SHAPE_MISMATCH',
      );
  }
  if (given('background')) {
    const bg = opts.background;
    if (!Array.isArray(bg) || bg.length === 0 || !bg.every((b) => b instanceof Float32Array))
      bad('background', 'is not a non-empty array of Float32Arrays', `[new Float32Array(${per})]`);
    else if (bg.some((b) => b.length !== per))
      bad(
        'background',
        `holds an input without the model's ${per} values`,
        `[new Float32Array(${per})]`,
        'SHAPE_MISMATCH',
      );
    else if (!bg.every(allFinite)) bad('background', 'holds values that are not finite', `[new Float32Array(${per})]`);
  }
  if (given('layer')) {
    const l = opts.layer,
      names = c.layerNames;
    const example = names?.length ? `'${names[0]}' or layer: 0` : '0';
    if (typeof l === 'string') {
      if (!names) bad('layer', 'names a layer, but this model has no layers by name', '0');
      else if (!names.includes(l))
        fail(
          'INVALID_ARGUMENT',
          `${method}: option layer ${show(l)} names no layer of this model`,
          `use one of: ${names.join(', ')}`,
        );
    } else if (!(typeof l === 'number' && Number.isInteger(l) && l >= 0 && (!names || l < names.length)))
      bad(
        'layer',
        names ? `is not a layer index in [0, ${names.length}) nor a layer's name` : 'is not a layer index',
        example,
      );
  }
  const isNeuron = neuronMethods.includes(method);
  if ((isNeuron || layerMethods.includes(method)) && !given('layer'))
    fail(
      'INVALID_ARGUMENT',
      `${method} needs option layer (the layer ${isNeuron ? 'whose unit is explained' : 'attributed at'})`,
      `pass e.g. layer: ${c.layerNames?.length ? `'${c.layerNames[0]}' or layer: 0` : '0'}`,
    );
  if (isNeuron) {
    const l = opts.layer as number | string;
    const shape = c.layerShapes?.[typeof l === 'string' ? (c.layerNames?.indexOf(l) ?? -1) : l];
    const n = opts.neuron;
    if (!given('neuron'))
      fail(
        'INVALID_ARGUMENT',
        `${method} needs option neuron (the unit of layer ${show(l)} explained)`,
        `pass e.g. neuron: 0${shape && shape.length > 1 ? ` or neuron: [${shape.map(() => 0).join(', ')}]` : ''}`,
      );
    const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    if (typeof n === 'number') {
      const size = shape?.reduce((p, d) => p * d, 1);
      if (!whole(n) || (size !== undefined && n >= size))
        bad('neuron', size !== undefined ? `is not a unit index in [0, ${size})` : 'is not a unit index', '0');
    } else if (!Array.isArray(n) || !n.every(whole))
      bad('neuron', 'is neither a flat unit index nor one index per axis', '0');
    else if (shape && n.length !== shape.length)
      bad(
        'neuron',
        `has ${n.length} indices for a layer output of shape [${shape.join(', ')}]`,
        `[${shape.map(() => 0).join(', ')}] or neuron: 0`,
        'SHAPE_MISMATCH',
      );
    else if (shape && n.some((i, k) => i >= shape[k]))
      bad('neuron', `lies outside the layer's output [${shape.join(', ')}]`, `[${shape.map(() => 0).join(', ')}]`);
  }
  if (given('seed') && !(typeof opts.seed === 'number' && Number.isSafeInteger(opts.seed)))
    bad('seed', 'is not a whole number', '0');
  if (given('batchSize') && !isCount(opts.batchSize)) bad('batchSize', 'is not a whole number ≥ 1', '64');
}

/** The method's count: its own option, else the old `samples`, else its default (0 for a method without one). */
export function countOf(o: BatchExplainOptions): number {
  const c = methodCounts[o.method];
  return c ? (o[c.name] ?? o.samples ?? c.fallback) : 0;
}
