import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type ConfigRecordValue,
  ConfigRecordSchema,
  type MetricRecordValue,
  MetricRecordSchema,
} from './generated/flwr/proto/recorddict_pb.generated.js';
import { FederatedError } from './errors.js';

/** One array as Flower carries it: `data` is `numpy.save` bytes when `stype` is 'numpy.ndarray'. */
export interface FlowerArray {
  dtype: string;
  shape: number[];
  stype: string;
  data: Uint8Array;
}
export type MetricValue = number | number[];
export type ConfigValue = number | boolean | string | Uint8Array | number[] | boolean[] | string[] | Uint8Array[];

/** Flower's three kinds of record: arrays (weights), metrics (numbers), config (settings). */
export type FlowerRecord =
  | { kind: 'arrays'; arrays: Map<string, FlowerArray> }
  | { kind: 'metrics'; values: Map<string, MetricValue> }
  | { kind: 'config'; values: Map<string, ConfigValue> };

/** A message's content: named records, in order. */
export type RecordDict = Map<string, FlowerRecord>;

const bad = (why: string): never => {
  throw new FederatedError('malformed', why, 'check that the server runs flwr 1.42');
};

const intOrDouble = (n: number) =>
  Number.isSafeInteger(n) ? ({ case: 'sint64', value: BigInt(n) } as const) : ({ case: 'double', value: n } as const);

export function metricsBody(values: ReadonlyMap<string, MetricValue>): Uint8Array {
  const items = [...values].map(([key, v]) => {
    let value: MetricRecordValue['value'];
    if (typeof v === 'number') value = intOrDouble(v);
    else if (v.every((x) => Number.isSafeInteger(x)))
      value = { case: 'sintList', value: { $typeName: 'flwr.proto.SintList', vals: v.map((x) => BigInt(x)) } };
    else value = { case: 'doubleList', value: { $typeName: 'flwr.proto.DoubleList', vals: [...v] } };
    return { key, value: { value } };
  });
  return toBinary(MetricRecordSchema, create(MetricRecordSchema, { items }));
}

export function parseMetrics(body: Uint8Array): Map<string, MetricValue> {
  const m = fromBinary(MetricRecordSchema, body);
  return new Map(m.items.map((i) => [i.key, metricValue(i.value?.value)]));
}

function metricValue(v: MetricRecordValue['value'] | undefined): MetricValue {
  switch (v?.case) {
    case 'double':
      return v.value;
    case 'sint64':
    case 'uint64':
      return Number(v.value);
    case 'doubleList':
      return [...v.value.vals];
    case 'sintList':
    case 'uintList':
      return v.value.vals.map(Number);
    default:
      return bad('a metric has no value');
  }
}

export function parseConfig(body: Uint8Array): Map<string, ConfigValue> {
  const c = fromBinary(ConfigRecordSchema, body);
  return new Map(c.items.map((i) => [i.key, configValue(i.value?.value)]));
}

function configValue(v: ConfigRecordValue['value'] | undefined): ConfigValue {
  switch (v?.case) {
    case 'double':
    case 'bool':
    case 'string':
    case 'bytes':
      return v.value;
    case 'sint64':
    case 'uint64':
      return Number(v.value);
    case 'doubleList':
    case 'boolList':
    case 'stringList':
    case 'bytesList':
      return [...v.value.vals] as ConfigValue;
    case 'sintList':
    case 'uintList':
      return v.value.vals.map(Number);
    default:
      return bad('a config entry has no value');
  }
}

export function configBody(values: ReadonlyMap<string, ConfigValue>): Uint8Array {
  const items = [...values].map(([key, v]) => {
    let value: ConfigRecordValue['value'];
    if (typeof v === 'number') value = intOrDouble(v);
    else if (typeof v === 'boolean') value = { case: 'bool', value: v };
    else if (typeof v === 'string') value = { case: 'string', value: v };
    else if (v instanceof Uint8Array) value = { case: 'bytes', value: v };
    else if (v.every((x) => typeof x === 'string'))
      value = { case: 'stringList', value: { $typeName: 'flwr.proto.StringList', vals: v as string[] } };
    else if (v.every((x) => typeof x === 'boolean'))
      value = { case: 'boolList', value: { $typeName: 'flwr.proto.BoolList', vals: v as boolean[] } };
    else if (v.every((x) => x instanceof Uint8Array))
      value = { case: 'bytesList', value: { $typeName: 'flwr.proto.BytesList', vals: v as Uint8Array[] } };
    else value = { case: 'doubleList', value: { $typeName: 'flwr.proto.DoubleList', vals: v as number[] } };
    return { key, value: { value } };
  });
  return toBinary(ConfigRecordSchema, create(ConfigRecordSchema, { items }));
}

/** A number from a config record, or the fallback when absent; anything else is a typed error. */
export function configNumber(c: ReadonlyMap<string, ConfigValue> | undefined, key: string, fallback: number): number {
  const v = c?.get(key);
  if (v === undefined) return fallback;
  return typeof v === 'number' ? v : bad(`config '${key}' is not a number`);
}
