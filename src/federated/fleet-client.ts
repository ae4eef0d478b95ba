import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { FederatedError } from './errors.js';
import type { NodeSigner } from './signer.js';

export interface FleetClientOptions {
  /** The SuperLink's HTTP address ('http://127.0.0.1:9095'), or a same-origin prefix such as '/flower'. */
  server: string;
  signer: NodeSigner;
  /** Default: the global fetch (Node 18+, browsers). Tests pass one that records traffic. */
  fetch?: typeof fetch;
  /** Longest one call may take (default 60 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 256 MiB); larger ones are an 'oversized' error. */
  maxResponseBytes?: number;
}

/** Byte counts of one Fleet call, for the per-round traffic figures. */
export interface Traffic {
  rpc: string;
  sent: number;
  received: number;
}

/**
 * Flower's Fleet API over its HTTP transport (flwr 1.42): `POST <server>/v1/fleet/<rpc>` with an
 * `application/protobuf` body, answered the same way; every call signed by the node's key.
 */
export class FleetClient {
  readonly server: string;
  private readonly o: FleetClientOptions;
  /** Every call's size, in order; the node resets it per round. */
  readonly traffic: Traffic[] = [];

  constructor(o: FleetClientOptions) {
    this.o = o;
    this.server = o.server.replace(/\/+$/, '');
  }

  async call<I extends DescMessage, O extends DescMessage>(
    rpc: string,
    input: I,
    request: MessageInitShape<I>,
    output: O,
  ): Promise<MessageShape<O>> {
    const body = toBinary(input, create(input, request));
    const doFetch = this.o.fetch ?? fetch;
    const signal = AbortSignal.timeout(this.o.timeoutMs ?? 60_000);
    let res: Response;
    try {
      res = await doFetch(`${this.server}/v1/fleet/${rpc}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/protobuf',
          accept: 'application/protobuf',
          ...(await this.o.signer.headers()),
        },
        body: body as Uint8Array<ArrayBuffer>,
        signal,
      });
    } catch (e) {
      throw new FederatedError(
        'unreachable',
        `Fleet ${rpc}: the SuperLink at ${this.server} could not be reached (${(e as Error).message})`,
        'check that flower-superlink is running and the address is right',
      );
    }
    const limit = this.o.maxResponseBytes ?? 256 * 1024 * 1024;
    const length = Number(res.headers.get('content-length') ?? '0');
    if (length > limit) {
      await res.body?.cancel();
      throw new FederatedError('oversized', `Fleet ${rpc}: a ${length}-byte answer`, `the limit is ${limit} bytes`);
    }
    const bytes = await readLimited(res, limit, rpc);
    this.traffic.push({ rpc, sent: body.length, received: bytes.length });
    if (!res.ok) {
      const text = new TextDecoder().decode(bytes.subarray(0, 2000));
      throw new FederatedError(
        'http',
        `Fleet ${rpc}: HTTP ${res.status} from the SuperLink: ${text}`,
        'see the SuperLink log',
        res.status,
      );
    }
    try {
      return fromBinary(output, bytes);
    } catch (e) {
      throw new FederatedError(
        'malformed',
        `Fleet ${rpc}: the answer is not a ${output.typeName} (${(e as Error).message})`,
        'check that the server runs flwr 1.42',
      );
    }
  }
}

/**
 * The body, read chunk by chunk and given up (the stream cancelled) once it passes `limit`: an answer without a
 * Content-Length, or with a false one, cannot make the client buffer more than the limit.
 */
async function readLimited(res: Response, limit: number, rpc: string): Promise<Uint8Array> {
  const oversized = (n: number) =>
    new FederatedError('oversized', `Fleet ${rpc}: an answer of more than ${n} bytes`, `the limit is ${limit} bytes`);
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > limit) {
        await reader.cancel();
        throw oversized(limit);
      }
      parts.push(value);
    }
  } catch (e) {
    if (e instanceof FederatedError) throw e;
    throw new FederatedError(
      'unreachable',
      `Fleet ${rpc}: the answer broke off (${(e as Error).message})`,
      'check that flower-superlink is running',
    );
  } finally {
    reader.releaseLock();
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
