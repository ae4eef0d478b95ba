import { FederatedError } from './errors.js';

/**
 * Flower's "inflatable objects": every part of a message travels as its own content-addressed object,
 * `<type> <child ids, comma-separated> <body length>` + NUL + body, named by the SHA-256 hex of those bytes.
 * A Message's child is its RecordDict; a RecordDict's children are its records; an ArrayRecord's, its Arrays; an
 * Array's, its ArrayChunks (the raw .npy bytes, in slices of at most 5 MiB).
 */
export interface FlowerObject {
  type: string;
  children: string[];
  body: Uint8Array;
}

/** The object types a layerhive client sends or accepts. */
export const objectTypes = [
  'Message',
  'RecordDict',
  'ArrayRecord',
  'MetricRecord',
  'ConfigRecord',
  'Array',
  'ArrayChunk',
] as const;

const malformed = (why: string): never => {
  throw new FederatedError('malformed', `a Flower object ${why}`, 'check that the server runs flwr 1.42');
};

export function objectBytes(o: FlowerObject): Uint8Array {
  const head = new TextEncoder().encode(`${o.type} ${o.children.join(',')} ${o.body.length}`);
  const out = new Uint8Array(head.length + 1 + o.body.length);
  out.set(head, 0);
  out[head.length] = 0;
  out.set(o.body, head.length + 1);
  return out;
}

export function parseObject(bytes: Uint8Array): FlowerObject {
  const nul = bytes.indexOf(0);
  if (nul < 0) malformed('has no head');
  const parts = new TextDecoder().decode(bytes.subarray(0, nul)).split(' ');
  if (parts.length !== 3) malformed(`head has ${parts.length} fields, not 3`);
  const [type, children, length] = parts;
  if (!(objectTypes as readonly string[]).includes(type)) malformed(`has the unknown type '${type}'`);
  const body = bytes.subarray(nul + 1);
  if (String(body.length) !== length) malformed(`says ${length} body bytes but has ${body.length}`);
  return { type, children: children ? children.split(',') : [], body };
}

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

/** The object's id: SHA-256 of its bytes, lowercase hex (WebCrypto: the same in Node and browsers). */
export async function objectId(bytes: Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Python's `json.dumps` spacing (`{"a": 1, "b": [1, 2]}`), so that ids match what a Python peer computes. */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}
