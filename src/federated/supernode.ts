import { create } from '@bufbuild/protobuf';
import {
  ActivateNodeRequestSchema,
  ActivateNodeResponseSchema,
  DeactivateNodeRequestSchema,
  DeactivateNodeResponseSchema,
  PullMessagesRequestSchema,
  PullMessagesResponseSchema,
  PushMessagesRequestSchema,
  PushMessagesResponseSchema,
  RegisterNodeFleetRequestSchema,
  RegisterNodeFleetResponseSchema,
  UnregisterNodeFleetRequestSchema,
  UnregisterNodeFleetResponseSchema,
} from './generated/flwr/proto/fleet_pb.generated.js';
import {
  SendNodeHeartbeatRequestSchema,
  SendNodeHeartbeatResponseSchema,
} from './generated/flwr/proto/heartbeat_pb.generated.js';
import {
  ConfirmMessageReceivedRequestSchema,
  ConfirmMessageReceivedResponseSchema,
  type Message,
  type Metadata,
  MessageSchema,
  MetadataSchema,
  PullObjectRequestSchema,
  PullObjectResponseSchema,
  PushObjectRequestSchema,
  PushObjectResponseSchema,
} from './generated/flwr/proto/message_pb.generated.js';
import { RecordDictSchema } from './generated/flwr/proto/recorddict_pb.generated.js';
import { FederatedError } from './errors.js';
import { FleetClient, type FleetClientOptions, type Traffic } from './fleet-client.js';
import { deflateMessage, inflateContent, postOrder } from './message-objects.js';
import { objectId } from './objects.js';
import type { RecordDict } from './records.js';
import { createNodeSigner } from './signer.js';

/** A message from the ServerApp, inflated. */
export interface IncomingMessage {
  runId: bigint;
  messageId: string;
  /** 'train', 'evaluate' or 'query' (possibly with an action: 'train.custom'). */
  messageType: string;
  /** Flower's group id (1.42's strategies leave it empty: the round is the config's 'server-round'). */
  groupId: string;
  content: RecordDict;
}

/** What a device runs for each message: the reply's content, or a thrown error (sent back as Flower's error). */
export type ClientAppHandler = (m: IncomingMessage) => Promise<RecordDict>;

export interface SuperNodeOptions extends Omit<FleetClientOptions, 'signer'> {
  /** Seconds between heartbeats the node promises (Flower: 10 to 1800; default 30). */
  heartbeatInterval?: number;
  /** Wait between empty pulls, ms (default 1000). */
  pollMs?: number;
  /** Backoff on an unreachable SuperLink: first wait and cap, ms (default 500 and 20 000). */
  backoffMs?: [first: number, cap: number];
  /**
   * Called after each reply is pushed, with the round's traffic; `error` when the reply was Flower's error (the
   * handler threw, or the message could not be taken in).
   */
  onRound?: (r: { message: IncomingMessage; traffic: Traffic[]; seconds: number; error?: Error }) => void;
  /** Called each time the node is registered and active: at the start, and again after the SuperLink forgot it. */
  onConnect?: (nodeId: bigint) => void;
  /**
   * Called on a fault the node survives: an unreachable SuperLink (retried with backoff), a SuperLink that forgot
   * the node (it connects again), a message it could not take in ('malformed', 'oversized', 'refused': answered
   * with Flower's error).
   */
  onFault?: (e: Error) => void;
}

// the abort listener goes when the timer fires: a node that polls for hours must not pile them up on its signal
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Flower's `ErrorCode` values (flwr/common/constant.py) that a layerhive node sends in an error reply. */
export const ErrorCode = {
  /** The message could not be taken in (malformed, oversized, objects gone): Flower has no closer code. */
  UNKNOWN: 0n,
  /** The ClientApp (here: the handler) threw, as Flower's own SuperNode reports it. */
  CLIENT_APP_RAISED_EXCEPTION: 2n,
} as const;

/** The SuperLink does not know this node (it restarted, or dropped the node): connect again as a new one. */
const forgotten = (e: unknown) =>
  e instanceof FederatedError && e.fault === 'http' && [401, 403, 404].includes(e.status ?? 0);

/** An error reply's reason: the fault's name first, so that the ServerApp's log says what kind of failure it was. */
const reasonOf = (e: Error) => (e instanceof FederatedError ? `${e.fault}: ${e.message}` : e.message);

const retryable = (e: unknown) =>
  e instanceof FederatedError &&
  (e.fault === 'unreachable' || (e.fault === 'http' && [502, 503, 504].includes(e.status ?? 0)));

/**
 * A SuperNode in TypeScript: registers a fresh key with the SuperLink and activates it, heartbeats, pulls messages
 * and their objects (checking every object's SHA-256), confirms receipt, runs `app`, pushes the reply's message and
 * then the objects the SuperLink asks for. Runs until `signal` aborts, then deactivates and unregisters.
 */
export class SuperNode {
  private readonly o: SuperNodeOptions;
  private client?: FleetClient;
  private nodeId = 0n;
  private heartbeat?: ReturnType<typeof setInterval>;

  constructor(o: SuperNodeOptions) {
    this.o = o;
  }

  get id(): bigint {
    return this.nodeId;
  }

  /** Retries what failed for want of the SuperLink, with exponential backoff; other errors go up. */
  private async retry<T>(what: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const [first, cap] = this.o.backoffMs ?? [500, 20_000];
    for (let wait = first; ; wait = Math.min(cap, wait * 2)) {
      try {
        return await what();
      } catch (e) {
        if (!retryable(e) || signal?.aborted) throw e;
        this.o.onFault?.(e as Error);
        await sleep(wait, signal);
      }
    }
  }

  /** Register (a new key each time) and activate; after a SuperLink restart the node connects again this way. */
  async connect(signal?: AbortSignal): Promise<void> {
    const signer = await createNodeSigner();
    const client = new FleetClient({ ...this.o, signer });
    const interval = this.o.heartbeatInterval ?? 30;
    await this.retry(
      () =>
        client.call(
          'register-node',
          RegisterNodeFleetRequestSchema,
          { publicKey: signer.publicKeyPem },
          RegisterNodeFleetResponseSchema,
        ),
      signal,
    );
    const r = await this.retry(
      () =>
        client.call(
          'activate-node',
          ActivateNodeRequestSchema,
          { publicKey: signer.publicKeyPem, heartbeatInterval: interval },
          ActivateNodeResponseSchema,
        ),
      signal,
    );
    this.client = client;
    this.nodeId = r.nodeId;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(
      () => {
        client
          .call(
            'send-node-heartbeat',
            SendNodeHeartbeatRequestSchema,
            { node: { nodeId: r.nodeId }, heartbeatInterval: interval },
            SendNodeHeartbeatResponseSchema,
          )
          .catch((e: Error) => this.o.onFault?.(e));
      },
      (interval * 1000) / 3,
    );
    this.o.onConnect?.(r.nodeId);
  }

  /** Drops an identity the SuperLink no longer knows: no heartbeats for it, and no goodbye on close. */
  private forget(): void {
    clearInterval(this.heartbeat);
    this.client = undefined;
  }

  /** Pulls, handles and replies until `signal` aborts. */
  async run(app: ClientAppHandler, signal?: AbortSignal): Promise<void> {
    if (!this.client) await this.connect(signal);
    try {
      while (!signal?.aborted) {
        let handled = false;
        try {
          handled = await this.step(app, signal); // connects first when the node has no identity
        } catch (e) {
          if (signal?.aborted) break;
          this.o.onFault?.(e as Error);
          // the SuperLink forgot this node (it restarted): the next turn registers a new identity; a connection that
          // fails in turn is one more fault, not the end of the node
          if (forgotten(e)) this.forget();
        }
        if (!handled) await sleep(this.o.pollMs ?? 1000, signal);
      }
    } finally {
      await this.close();
    }
  }

  /** One pull; true when a message was handled. */
  async step(app: ClientAppHandler, signal?: AbortSignal): Promise<boolean> {
    if (!this.client) await this.connect(signal);
    const client = this.client as unknown as FleetClient;
    const node = { nodeId: this.nodeId };
    const pulled = await this.retry(
      () => client.call('pull-messages', PullMessagesRequestSchema, { node }, PullMessagesResponseSchema),
      signal,
    );
    const message = pulled.messagesList[0];
    const tree = pulled.messageObjectTrees[0];
    if (!message?.metadata || !tree) return false;
    const t0 = performance.now();
    client.traffic.length = 0;
    const meta = message.metadata;
    const incoming: IncomingMessage = {
      runId: meta.runId,
      messageId: meta.messageId,
      messageType: meta.messageType,
      groupId: meta.groupId,
      content: new Map(),
    };
    let content: RecordDict | null = null;
    let error: Error | undefined;
    let code: bigint = ErrorCode.CLIENT_APP_RAISED_EXCEPTION;
    try {
      const objects = new Map<string, Uint8Array>();
      for (const id of postOrder(tree)) objects.set(id, await this.pullObject(client, meta.runId, id, signal));
      incoming.content = inflateContent(tree.objectId, objects);
    } catch (e) {
      // a message the node cannot take in (bad bytes, too large, objects gone) still gets an answer: Flower's error,
      // so that the ServerApp counts a failure now instead of waiting for its timeout (Flower's own SuperNode drops
      // such a message silently). A SuperLink that forgot this node cannot take a reply: that goes up to `run`.
      if (signal?.aborted || forgotten(e)) throw e;
      error = e as Error;
      code = ErrorCode.UNKNOWN;
      this.o.onFault?.(error);
    }
    // only a message taken in whole is confirmed: confirming lets the SuperLink delete the message's objects, and
    // after a failed pull the ServerApp may still be pushing them (the message's own object last): Flower 1.42's
    // ServerApp then fails on an object "not pre-registered" and the run ends. Flower's SuperNode does the same;
    // the objects go when the run ends.
    if (!error) {
      await this.retry(
        () =>
          client.call(
            'confirm-message-received',
            ConfirmMessageReceivedRequestSchema,
            { node, runId: meta.runId, messageObjectId: meta.messageId },
            ConfirmMessageReceivedResponseSchema,
          ),
        signal,
      );
      try {
        content = await app(incoming);
      } catch (e) {
        error = e as Error;
      }
    }
    await this.reply(client, meta, content, error && { code, reason: reasonOf(error) }, signal);
    this.o.onRound?.({
      message: incoming,
      traffic: [...client.traffic],
      seconds: (performance.now() - t0) / 1000,
      error,
    });
    return true;
  }

  private async pullObject(client: FleetClient, runId: bigint, id: string, signal?: AbortSignal): Promise<Uint8Array> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const r = await this.retry(
        () =>
          client.call(
            'pull-object',
            PullObjectRequestSchema,
            { node: { nodeId: this.nodeId }, runId, objectId: id },
            PullObjectResponseSchema,
          ),
        signal,
      );
      if (!r.objectFound)
        throw new FederatedError('refused', `object ${id} is not on the SuperLink`, 'the round moved on');
      if (r.objectAvailable) {
        if ((await objectId(r.objectContent)) !== id)
          throw new FederatedError(
            'malformed',
            `object ${id} does not hash to its id`,
            'the SuperLink sent other bytes',
          );
        return r.objectContent;
      }
      await sleep(250, signal);
    }
    throw new FederatedError('refused', `object ${id} never became available`, 'the round moved on');
  }

  private async reply(
    client: FleetClient,
    ins: Metadata,
    content: RecordDict | null,
    failure: { code: bigint; reason: string } | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const now = Date.now() / 1000;
    const metadata = create(MetadataSchema, {
      runId: ins.runId,
      srcNodeId: ins.dstNodeId,
      dstNodeId: ins.srcNodeId,
      replyToMessageId: ins.messageId,
      groupId: ins.groupId,
      createdAt: now,
      ttl: ins.createdAt + ins.ttl - now,
      messageType: ins.messageType,
      ...(ins.dstTaskId !== undefined ? { srcTaskId: ins.dstTaskId } : {}),
      ...(ins.srcTaskId !== undefined ? { dstTaskId: ins.srcTaskId } : {}),
    });
    const node = { nodeId: this.nodeId };
    const deflated = await deflateMessage(metadata, content ?? new Map(), failure);
    const proto: Message = create(
      MessageSchema,
      failure
        ? { metadata: { ...metadata, messageId: deflated.id }, error: failure }
        : { metadata: { ...metadata, messageId: deflated.id }, content: create(RecordDictSchema) },
    );
    const pushed = await this.retry(
      () =>
        client.call(
          'push-messages',
          PushMessagesRequestSchema,
          { node, messagesList: [proto], messageObjectTrees: [deflated.tree], clientappRuntimeList: [0] },
          PushMessagesResponseSchema,
        ),
      signal,
    );
    const wanted = new Set(pushed.objectsToPush);
    for (const id of postOrder(deflated.tree)) {
      if (!wanted.delete(id)) continue;
      const r = await this.retry(
        () =>
          client.call(
            'push-object',
            PushObjectRequestSchema,
            {
              node,
              runId: ins.runId,
              objectId: id,
              objectContent: deflated.objects.get(id)!,
              sessionId: pushed.sessionId,
            },
            PushObjectResponseSchema,
          ),
        signal,
      );
      if (!r.stored) throw new FederatedError('refused', `the SuperLink did not store object ${id}`, 'see its log');
    }
  }

  /** Stops heartbeats, deactivates and unregisters (best effort: the SuperLink may be gone). */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const nodeId = this.nodeId;
    await client
      .call('deactivate-node', DeactivateNodeRequestSchema, { nodeId }, DeactivateNodeResponseSchema)
      .catch(() => {});
    await client
      .call('unregister-node', UnregisterNodeFleetRequestSchema, { nodeId }, UnregisterNodeFleetResponseSchema)
      .catch(() => {});
  }
}
