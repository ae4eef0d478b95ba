import { fail } from '../core/errors.js';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import { CONTRACT_KEYS, type ModelContract } from './contract.js';

type ModelProto = OnnxNamespace.IModelProto;

/** The contract as `metadata_props` entries (values are plain text or JSON, readable in Netron as they are). */
export function contractProps(c: ModelContract): { key: string; value: string }[] {
  const K = CONTRACT_KEYS;
  const props: [string, string | null][] = [
    [K.format, String(c.format)],
    [K.version, c.layerhiveVersion],
    [K.rule, c.rule],
    [K.layout, c.input.layout],
    [K.kind, c.input.kind],
    [K.range, c.input.range && JSON.stringify(c.input.range)],
    [
      K.normalization,
      c.input.normalization &&
        JSON.stringify({
          mean: c.input.normalization.mean,
          std: c.input.normalization.std,
          applied_by: c.input.normalization.appliedBy,
        }),
    ],
    [K.classNames, c.output.classNames && JSON.stringify(c.output.classNames)],
    [K.noise, c.noise && `${c.noise.name}: ${c.noise.meaning}`],
    [K.noiseZ0, c.noise && JSON.stringify(c.noise.z0)],
  ];
  return props.filter((p): p is [string, string] => p[1] !== null).map(([key, value]) => ({ key, value }));
}

const bad = (key: string, value: string, want: string): never =>
  fail('DATA_INVALID', `ONNX metadata '${key}' is ${JSON.stringify(value)}, not ${want}`, 'the file is damaged');

function json(key: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return bad(key, value, 'JSON');
  }
}

const isNumbers = (v: unknown, n?: number): v is number[] =>
  Array.isArray(v) &&
  (n === undefined || v.length === n) &&
  v.every((x) => typeof x === 'number' && Number.isFinite(x));

/**
 * The contract of a decoded model (its `metadata_props`), typed and checked; null when the file carries none (a
 * model from another producer, or one exported before contracts). Malformed values are a DATA_INVALID error naming
 * the key, never a guess. Synchronous, for an importer that has the ModelProto already.
 */
export function contractOf(model: ModelProto): ModelContract | null {
  const K = CONTRACT_KEYS;
  const props = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const format = props.get(K.format);
  if (format === undefined) return null;
  if (format !== '1')
    fail(
      'DATA_INVALID',
      `the model's contract is format ${JSON.stringify(format)}; this layerhive reads format 1`,
      'read it with the layerhive version that wrote it (its layerhive_version key)',
    );
  const text = (key: string) => props.get(key) ?? null;
  const required = (key: string) => text(key) ?? bad(key, '(missing)', 'present');
  const kind = required(K.kind);
  if (kind !== 'pixels' && kind !== 'normalized' && kind !== 'unknown') bad(K.kind, kind, 'pixels|normalized|unknown');
  const rangeText = text(K.range);
  let range: [number, number] | null = null;
  if (rangeText !== null) {
    const r = json(K.range, rangeText);
    if (!isNumbers(r, 2) || !(r[0] < r[1])) bad(K.range, rangeText, '[low, high]');
    range = [(r as number[])[0], (r as number[])[1]];
  }
  const normText = text(K.normalization);
  let normalization: ModelContract['input']['normalization'] = null;
  if (normText !== null) {
    const n = json(K.normalization, normText) as { mean?: unknown; std?: unknown; applied_by?: unknown } | null;
    const { mean, std, applied_by: by } = n ?? {};
    if (
      !(
        typeof mean === 'number' &&
        Number.isFinite(mean) &&
        typeof std === 'number' &&
        std > 0 &&
        Number.isFinite(std)
      ) ||
      (by !== 'graph' && by !== 'caller')
    )
      bad(K.normalization, normText, '{"mean", "std" > 0, "applied_by": "graph"|"caller"}');
    normalization = { mean: mean as number, std: std as number, appliedBy: by as 'graph' | 'caller' };
  }
  const classText = text(K.classNames);
  let classNames: string[] | null = null;
  if (classText !== null) {
    const c = json(K.classNames, classText);
    if (!(Array.isArray(c) && c.every((x) => typeof x === 'string'))) bad(K.classNames, classText, 'a list of names');
    classNames = c as string[];
  }
  const noiseText = text(K.noise);
  let noise: ModelContract['noise'] = null;
  if (noiseText !== null) {
    const colon = noiseText.indexOf(': ');
    if (colon < 1) bad(K.noise, noiseText, '"name: meaning"');
    const z0Text = required(K.noiseZ0),
      z0 = json(K.noiseZ0, z0Text);
    if (!isNumbers(z0)) bad(K.noiseZ0, z0Text, 'a list of numbers');
    noise = { name: noiseText.slice(0, colon), meaning: noiseText.slice(colon + 2), z0: z0 as number[] };
  }
  const graph = model.graph;
  const weights = new Set((graph?.initializer ?? []).map((t) => t.name));
  return {
    format: 1,
    layerhiveVersion: required(K.version),
    rule: text(K.rule),
    input: {
      name: graph?.input?.find((i) => !weights.has(i.name) && i.name !== noise?.name)?.name ?? 'input',
      layout: required(K.layout),
      kind: kind as ModelContract['input']['kind'],
      range,
      normalization,
    },
    output: { name: graph?.output?.[0]?.name ?? 'logits', classNames },
    noise,
  };
}

/**
 * Where the network proper starts in a graph whose contract says the graph normalises ('pixels'): the head nodes
 * `Sub(input, mean)` → `Div(·, std)` that the exporter writes, checked against the contract's mean and std, so an
 * importer that feeds layerhive's normalised batches can start its chain after them. `nodes` is how many head nodes
 * to skip (0 when the graph has none: no contract, 'normalized' input, or UNIT_SCALE, which needs no nodes) and
 * `input` the name the network reads. A contract that promises nodes the graph lacks is a DATA_INVALID error.
 */
export function normalizationHead(model: ModelProto): { nodes: number; input: string } {
  const c = contractOf(model);
  const graph = model.graph;
  const input = c?.input.name ?? graph?.input?.[0]?.name ?? '';
  const norm = c?.input.normalization;
  if (c?.input.kind !== 'pixels' || !norm || norm.appliedBy !== 'graph' || (norm.mean === 0 && norm.std === 1))
    return { nodes: 0, input };
  const nodes = graph?.node ?? [];
  const value = (name: string | null | undefined) => {
    const t = graph?.initializer?.find((i) => i.name === name);
    return t?.floatData?.length === 1 ? t.floatData[0] : undefined;
  };
  const [sub, div] = nodes;
  const f32 = Math.fround;
  if (
    sub?.opType === 'Sub' &&
    sub.input?.[0] === input &&
    value(sub.input?.[1]) === f32(norm.mean) &&
    div?.opType === 'Div' &&
    div.input?.[0] === sub.output?.[0] &&
    value(div.input?.[1]) === f32(norm.std)
  )
    return { nodes: 2, input: div.output?.[0] ?? '' };
  return fail(
    'DATA_INVALID',
    `the model's contract says the graph normalises its input (mean ${norm.mean}, std ${norm.std}), ` +
      'but its first nodes are not Sub(input, mean) → Div(·, std) with those values',
    'the file was edited after export; export it again',
  );
}
