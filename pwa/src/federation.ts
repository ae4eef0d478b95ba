import * as lh from '../../src/index.js';
import type { ImageDataset, RuleConfig } from '../../src/index.js';
import { FederatedError } from '../../src/federated/errors.js';
import type { Traffic } from '../../src/federated/fleet-client.js';
import { configNumber } from '../../src/federated/records.js';
import { ruleClientApp } from '../../src/federated/rule-client.js';
import { type ClientAppHandler, type IncomingMessage, SuperNode } from '../../src/federated/supernode.js';
import type { Personalizer } from './personalizer.js';
import { heldOut, type Sample } from './sample-store.js';
import { LEARNING_KEY } from './teach-panel.js';

/** Where the app's server passes Flower's Fleet API through (`layerhive serve --flower URL`), beside the app. */
const FLOWER = 'flower';

export type FederationPhase = 'off' | 'joining' | 'waiting' | 'training' | 'offline' | 'failed';

/** One round as this device took part in it: what it measured and what moved. */
export interface FederationRound {
  round: number;
  /** After the local training, on your samples kept aside (the train reply's accuracy). */
  localAccuracy?: number;
  /** The round's global model on your samples kept aside (the evaluate reply's). */
  globalAccuracy?: number;
  /** Bytes this device sent and received in the round (train and evaluate messages, their objects). */
  sent: number;
  received: number;
  error?: string;
}

/** What a round sends, before joining: the weights of the network in use and their size as Flower carries them. */
export interface FederationPayload {
  weights: number;
  arrays: number;
  /** float32 weights plus a `.npy` header per array; the reply adds only three metrics. */
  bytes: number;
}

const sum = (t: Traffic[], k: 'sent' | 'received') => t.reduce((a, x) => a + x[k], 0);

/** The round a message belongs to: Flower's strategies put it in the config record ('server-round'). */
function roundOf(m: IncomingMessage): number {
  const c = m.content.get('config');
  try {
    return configNumber(c?.kind === 'config' ? c.values : undefined, 'server-round', Number(m.groupId) || 0);
  } catch {
    return Number(m.groupId) || 0;
  }
}

/** Your samples as a dataset (28×28 pixels and labels), for the local rounds. */
function dataset(samples: Sample[]): ImageDataset {
  const images = new Uint8Array(samples.length * 784),
    labels = new Uint8Array(samples.length);
  samples.forEach((s, i) => {
    images.set(s.pixels, i * 784);
    labels[i] = s.label;
  });
  return { images, labels, count: samples.length, shape: [1, 28, 28], classes: 10 };
}

/**
 * The SuperLink this app's server passes to (its GET flower/ answer); null when it offers no federation, 'unreachable'
 * when it cannot be asked now (offline).
 */
export async function offeredFederation(base: URL): Promise<{ server: string } | null | 'unreachable'> {
  let r: Response;
  try {
    r = await fetch(new URL(`${FLOWER}/`, base), { cache: 'no-store' });
  } catch {
    return 'unreachable';
  }
  if (!r.ok) return null;
  const o = (await r.json().catch(() => ({}))) as { server?: unknown };
  return typeof o.server === 'string' ? { server: o.server } : null;
}

/**
 * This device in a Flower federation, opted into by the person: a SuperNode (src/federated) that talks only to this
 * app's own origin (`/flower/*`, passed to the SuperLink by `layerhive serve --flower`), answering Flower's train and
 * evaluate messages with the network in use (the personaliser's config; its weights until the server's arrive),
 * trained on the device's own samples over the app's workers. Only weights and three metrics leave the device.
 * Each round's global model (it comes with the evaluate message) is saved as a version of its own, marked federated;
 * the personalised versions are never overwritten.
 */
export class Federation {
  phase: FederationPhase = 'off';
  rounds: FederationRound[] = [];
  /** Why the last step did not go as planned (shown beside the phase); '' when all is well. */
  note = '';
  /** The federated version saved last (this run), or null. */
  version: number | null = null;
  /** The SuperLink the page's requests reach (through its own origin), once joined. */
  server = '';
  private abort: AbortController | null = null;
  private running: Promise<void> | null = null;
  /** The run the saved version belongs to: a new run starts a new version rather than replacing this run's. */
  private run: bigint | null = null;
  /** One backend for the federation's copy of the network (its predictions on your samples kept aside). */
  private backend: lh.Backend | null = null;

  constructor(
    private readonly model: Personalizer,
    private readonly base: URL,
    private readonly changed: () => void,
  ) {}

  /** What each round sends: the network in use, as arrays. */
  async payload(): Promise<FederationPayload> {
    let weights = 0,
      arrays = 0,
      bytes = 0;
    for (const s of Object.values(await lh.saveGroups(this.model.rule)))
      for (const t of Object.values(s.tensors)) {
        weights += t.data.length;
        arrays++;
        bytes += 4 * t.data.length + 128;
      }
    return { weights, arrays, bytes };
  }

  get joined(): boolean {
    return this.abort !== null;
  }

  /**
   * Reads the samples stored now into `train` and `test` (in place: the client app holds them): those kept aside to
   * test on, or all of them while none are; gives how many are kept aside. No samples: an error (nothing to train).
   */
  private async readSamples(train: ImageDataset, test: ImageDataset): Promise<number> {
    const all = await this.model.samples.all();
    const aside = heldOut(all);
    const mine = all.filter((_, i) => !aside.has(i)),
      kept = all.filter((_, i) => aside.has(i));
    if (!mine.length) throw new Error('teach a few digits first: the federation trains on your samples');
    Object.assign(train, dataset(mine));
    Object.assign(test, dataset(kept.length ? kept : mine));
    return kept.length;
  }

  /** Joins: from now on, rounds are taken while the app is open. */
  async join(server: string): Promise<void> {
    if (this.abort) return;
    const trainSet = dataset([]),
      testSet = dataset([]);
    let kept = await this.readSamples(trainSet, testSet);
    const config: RuleConfig = structuredClone(this.model.config);
    const mode = this.model.mode;
    this.backend ??= await lh.createBackend('wasm', { threads: 1 });
    const app = ruleClientApp({
      config,
      backend: this.backend,
      trainSet,
      testSet,
      trainer: (rule, train, test, o) => this.model.trainOnWorkers(rule, config, train, test, o),
      trainerAppliesProximal: false,
    });
    // the network in use is the starting point: its weights stand until the server's global ones arrive
    for (const [g, st] of Object.entries(await lh.saveGroups(this.model.rule))) app.rule.loadGroup(g, st);
    this.server = server;
    this.rounds = [];
    this.note = '';
    this.phase = 'joining';
    this.abort = new AbortController();
    const signal = this.abort.signal;
    const row = (round: number) => {
      let r = this.rounds.find((x) => x.round === round);
      if (!r) {
        r = { round, sent: 0, received: 0 };
        this.rounds = [...this.rounds, r].sort((a, b) => a.round - b.round);
      }
      return r;
    };
    const handler: ClientAppHandler = async (m) => {
      const round = roundOf(m);
      const evaluating = m.messageType.startsWith('evaluate');
      this.phase = 'training';
      this.changed();
      // one at a time with Learn: both train on the app's workers (Learn holds this lock while it runs)
      const work = async () => {
        kept = await this.readSamples(trainSet, testSet); // samples deleted since are not trained on
        const reply = await app.handler(m);
        const metrics = reply.get('metrics');
        const accuracy = metrics?.kind === 'metrics' ? Number(metrics.values.get('accuracy')) : undefined;
        if (!evaluating) row(round).localAccuracy = accuracy;
        else {
          row(round).globalAccuracy = accuracy;
          // the evaluate message carries the round's global model, now in app.rule: a version of its own
          const meta = {
            federated: { server, round, run: String(m.runId) },
            mode,
            ...(kept && accuracy !== undefined ? { accuracy } : {}),
          };
          this.version = await this.model.saveFederated(app.rule, config, meta, {
            replaces: this.run === m.runId ? (this.version ?? undefined) : undefined,
          });
          this.run = m.runId;
        }
        return reply;
      };
      try {
        return navigator.locks ? await navigator.locks.request(LEARNING_KEY, work) : await work();
      } catch (e) {
        row(round).error = (e as Error).message;
        this.note = (e as Error).message;
        throw e; // the SuperNode replies with Flower's error: the round goes on without this device
      }
    };
    const node = new SuperNode({
      server: new URL(FLOWER, this.base).pathname,
      pollMs: 1000,
      backoffMs: [1000, 30_000],
      // any answer from the server means it is there again
      fetch: async (url, init) => {
        const r = await fetch(url, init);
        if (r.ok && (this.phase === 'offline' || this.phase === 'joining')) {
          this.phase = 'waiting';
          this.note = '';
          this.changed();
        }
        return r;
      },
      onRound: (r) => {
        const x = row(roundOf(r.message));
        x.sent += sum(r.traffic, 'sent');
        x.received += sum(r.traffic, 'received');
        this.phase = 'waiting';
        this.changed();
      },
      onFault: (e) => {
        const gone =
          e instanceof FederatedError &&
          (e.fault === 'unreachable' || (e.fault === 'http' && [502, 503, 504].includes(e.status ?? 0)));
        if (gone) this.phase = 'offline';
        else this.note = e.message;
        this.changed();
      },
    });
    this.running = node
      .run(handler, signal)
      .catch((e: Error) => {
        if (signal.aborted) return;
        this.phase = 'failed';
        this.note = e.message;
      })
      .finally(() => {
        app.rule.dispose();
        if (this.abort?.signal === signal) this.abort = null;
        this.changed();
      });
    this.changed();
  }

  /** Leaves: the node says goodbye to the SuperLink (best effort); the saved federated version stays. */
  async leave(): Promise<void> {
    const running = this.running;
    this.abort?.abort();
    await running;
    this.running = null;
    this.abort = null;
    this.phase = 'off';
    this.changed();
  }
}
