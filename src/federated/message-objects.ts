import { create, toBinary } from '@bufbuild/protobuf';
import {
  type Metadata,
  MessageSchema,
  type ObjectTree,
  ObjectTreeSchema,
} from './generated/flwr/proto/message_pb.generated.js';
import { FederatedError } from './errors.js';
import { type FlowerObject, objectBytes, objectId, parseObject, pyJson } from './objects.js';
import {
  configBody,
  type FlowerArray,
  type FlowerRecord,
  metricsBody,
  parseConfig,
  parseMetrics,
  type RecordDict,
} from './records.js';

/** Flower slices an Array's bytes into chunks of at most this many (FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE). */
export const ARRAY_CHUNK_BYTES = 5 * 1024 * 1024;

/** A message ready to push: its id (the root object's), the tree of ids, and every object's bytes. */
export interface Deflated {
  id: string;
  tree: ObjectTree;
  objects: Map<string, Uint8Array>;
}

interface Node {
  id: string;
  tree: ObjectTree;
}

class Builder {
  readonly objects = new Map<string, Uint8Array>();
  async add(o: FlowerObject, children: Node[]): Promise<Node> {
    const bytes = objectBytes(o);
    const id = await objectId(bytes);
    this.objects.set(id, bytes);
    return { id, tree: create(ObjectTreeSchema, { objectId: id, children: children.map((c) => c.tree) }) };
  }
}

const utf8 = (s: string) => new TextEncoder().encode(s);

async function deflateArray(b: Builder, a: FlowerArray): Promise<Node> {
  const chunks: Node[] = [];
  for (let s = 0; s < a.data.length; s += ARRAY_CHUNK_BYTES)
    chunks.push(await b.add({ type: 'ArrayChunk', children: [], body: a.data.subarray(s, s + ARRAY_CHUNK_BYTES) }, []));
  const unique: Node[] = [];
  for (const c of chunks) if (!unique.some((u) => u.id === c.id)) unique.push(c);
  const body = pyJson({
    dtype: a.dtype,
    shape: a.shape,
    stype: a.stype,
    arraychunk_ids: chunks.map((c) => unique.findIndex((u) => u.id === c.id)),
  });
  return b.add({ type: 'Array', children: unique.map((u) => u.id), body: utf8(body) }, unique);
}

async function deflateRecord(b: Builder, r: FlowerRecord): Promise<Node> {
  if (r.kind === 'metrics') return b.add({ type: 'MetricRecord', children: [], body: metricsBody(r.values) }, []);
  if (r.kind === 'config') return b.add({ type: 'ConfigRecord', children: [], body: configBody(r.values) }, []);
  const refs: Record<string, string> = {};
  const unique: Node[] = [];
  for (const [name, a] of r.arrays) {
    const n = await deflateArray(b, a);
    refs[name] = n.id;
    if (!unique.some((u) => u.id === n.id)) unique.push(n);
  }
  return b.add({ type: 'ArrayRecord', children: unique.map((u) => u.id), body: utf8(pyJson(refs)) }, unique);
}

/** Deflates a reply: `metadata` without its message_id (the id is the root object's, as Flower computes it). */
export async function deflateMessage(
  metadata: Metadata,
  content: RecordDict,
  error?: { code: bigint; reason: string },
): Promise<Deflated> {
  const b = new Builder();
  if (error) {
    const body = toBinary(MessageSchema, create(MessageSchema, { metadata: { ...metadata, messageId: '' }, error }));
    const root = await b.add({ type: 'Message', children: [], body }, []);
    return { id: root.id, tree: root.tree, objects: b.objects };
  }
  const refs: Record<string, string> = {};
  const unique: Node[] = [];
  for (const [name, r] of content) {
    const n = await deflateRecord(b, r);
    refs[name] = n.id;
    if (!unique.some((u) => u.id === n.id)) unique.push(n);
  }
  const rd = await b.add({ type: 'RecordDict', children: unique.map((u) => u.id), body: utf8(pyJson(refs)) }, unique);
  const body = toBinary(MessageSchema, create(MessageSchema, { metadata: { ...metadata, messageId: '' } }));
  const root = await b.add({ type: 'Message', children: [rd.id], body }, [rd]);
  return { id: root.id, tree: root.tree, objects: b.objects };
}

/** Every id of a tree, children before parents (the order Flower pushes and pulls in). */
export function postOrder(tree: ObjectTree): string[] {
  return [...tree.children.flatMap(postOrder), tree.objectId];
}

const malformed = (why: string): never => {
  throw new FederatedError('malformed', why, 'check that the server runs flwr 1.42');
};

const json = (o: FlowerObject): Record<string, unknown> => {
  try {
    return JSON.parse(new TextDecoder().decode(o.body)) as Record<string, unknown>;
  } catch {
    return malformed(`the ${o.type} object's body is not JSON`);
  }
};

/** Inflates a pulled message's content from its objects (each already checked against its id). */
export function inflateContent(root: string, objects: ReadonlyMap<string, Uint8Array>): RecordDict {
  const get = (id: string, type: string): FlowerObject => {
    const bytes = objects.get(id) ?? malformed(`object ${id} was not pulled`);
    const o = parseObject(bytes);
    if (o.type !== type) malformed(`object ${id} is a ${o.type}, not a ${type}`);
    return o;
  };
  const message = get(root, 'Message');
  const content: RecordDict = new Map();
  if (message.children.length === 0) return content;
  for (const [name, id] of Object.entries(json(get(message.children[0], 'RecordDict')))) {
    const o = parseObject(objects.get(String(id)) ?? malformed(`record ${name} was not pulled`));
    if (o.type === 'MetricRecord') content.set(name, { kind: 'metrics', values: parseMetrics(o.body) });
    else if (o.type === 'ConfigRecord') content.set(name, { kind: 'config', values: parseConfig(o.body) });
    else if (o.type === 'ArrayRecord') {
      const arrays = new Map<string, FlowerArray>();
      for (const [an, aid] of Object.entries(json(o))) arrays.set(an, inflateArray(get(String(aid), 'Array'), get));
      content.set(name, { kind: 'arrays', arrays });
    } else malformed(`record ${name} is a ${o.type}`);
  }
  return content;
}

function inflateArray(o: FlowerObject, get: (id: string, type: string) => FlowerObject): FlowerArray {
  const meta = json(o);
  const ids = Array.isArray(meta.arraychunk_ids)
    ? (meta.arraychunk_ids as number[])
    : malformed('an Array lacks chunks');
  const parts = ids.map((i) => get(o.children[i] ?? malformed('an Array names a missing chunk'), 'ArrayChunk').body);
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  const shape = Array.isArray(meta.shape) ? (meta.shape as number[]) : malformed('an Array lacks a shape');
  return { dtype: String(meta.dtype), shape, stype: String(meta.stype), data };
}
