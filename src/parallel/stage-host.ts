import type { Backend } from '../backend/backend.js';
import { createBackend } from '../backend/select.js';
import { liveTensors } from '../core/scope.js';
import { fail } from '../core/errors.js';
import { BatchIterator, type BatchCursor, type Normalization } from '../data/batches.js';
import type { ImageDataset } from '../data/dataset.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import { saveGroups, type LearningRule } from '../learn/rule.js';
import type { GroupState } from '../learn/group-state.js';
import type { Parallelism, SegmentChain } from '../learn/parallelism.js';
import type { GradientRule } from '../explain/model.js';
import { Channel, type PortLike } from './channel.js';
import { FrozenSession, type FrozenOptions } from './frozen-session.js';
import type { StageContext } from './stage-context.js';
import type { PipelineRequest } from './programs/pipeline-request.js';
import { trainIndependent } from './programs/independent.js';
import { trainForwardPipeline } from './programs/forward-pipeline.js';
import { trainGPipe } from './programs/gpipe.js';
import { predictRange } from './programs/inference.js';
import { ExplanationProgram } from './programs/explanation.js';

export type { PipelineRequest } from './programs/pipeline-request.js';

export interface StageInit {
  rule: RuleConfig;
  backend?: string;
  /**
   * Intra-op threads of a wasm backend (default 1: a stage shares the cores with the other stages; the placement
   * plan gives a stage more where that is faster than another cut).
   */
  threads?: number;
  /** Names the stage in errors ('stage 1: block3, block4'). */
  label: string;
  /**
   * Modules to import before the rule is built: where a rule of your own is registered (`registerRule`), so this
   * worker can build it from its config. URLs (or paths a Node worker can import).
   */
  modules?: string[];
}

export interface StageStats {
  backend: string;
  /** Intra-op threads its backend uses now (1 off wasm, or once a helper failed). */
  threads: number;
  /** Payload bytes this stage sent to other stages. */
  bytesSent: number;
  /** The most tensor memory this stage's backend held at once. */
  peakTensorBytes: number;
  /** Milliseconds this stage waited on its neighbours (input not yet there, or no credit to send). */
  waitMs: number;
  /** Tensors alive in this worker now (constant from step to step, or something leaks). */
  liveTensors: number;
}

/**
 * What a stage worker hosts: a learning rule built from its config on the worker's own backend, the data it reads
 * (independent groups and a pipeline's first stage iterate the same seeded batches as a one-thread run), and direct
 * ports to its neighbours. The coordinator drives it over comlink; what it runs is the program for the rule's
 * declared parallelism (programs/), never a rule it knows by name.
 */
export class StageHost {
  private built: { config: RuleConfig; rule: LearningRule; backend: Backend } | null = null;
  private label = 'stage';
  private data: BatchIterator | null = null;
  private prev: Channel | null = null;
  private next: Channel | null = null;
  private bytesSentBefore = 0;
  private waitMsBefore = 0;
  private frozen: FrozenSession | null = null;
  private explanation = new ExplanationProgram();

  /**
   * Builds the rule afresh: nothing of an earlier run stays (its data, its pipeline ports, its counts of bytes sent
   * and time waited), so a pool's workers can serve one model after another.
   */
  async init(c: StageInit): Promise<{ backend: string; groups: string[] }> {
    this.label = c.label;
    this.data = null;
    this.prev?.close();
    this.next?.close();
    this.prev = this.next = null;
    this.bytesSentBefore = this.waitMsBefore = 0;
    for (const m of c.modules ?? []) await import(/* @vite-ignore */ m);
    this.built?.rule.dispose();
    this.built?.backend.destroy?.(); // a WebGPU device is not left behind
    this.built = null;
    const backend = await createBackend(c.backend ?? 'wasm', { threads: c.threads ?? 1 });
    const rule = createRule(c.rule, backend);
    this.built = { config: c.rule, rule, backend };
    backend.resetPeak();
    return { backend: backend.flavour, groups: rule.groups().map((g) => g.name) };
  }

  /** The training images this stage reads, and the batch order (seed, or a cursor to resume from). */
  setData(
    ds: ImageDataset,
    o: { batchSize: number; seed: number; cursor?: BatchCursor; normalization?: Normalization },
  ): void {
    this.data = new BatchIterator(ds, o);
  }

  cursor(): BatchCursor {
    return this.context().batches().getCursor();
  }

  connect(ports: { prev: PortLike | null; next: PortLike | null }): void {
    this.prev?.close();
    this.next?.close();
    this.bytesSentBefore += (this.prev?.bytesSent ?? 0) + (this.next?.bytesSent ?? 0);
    this.waitMsBefore += (this.prev?.waitMs ?? 0) + (this.next?.waitMs ?? 0);
    this.prev = ports.prev ? new Channel(ports.prev) : null;
    this.next = ports.next ? new Channel(ports.next) : null;
  }

  /** Fails whatever this stage is waiting for (a neighbour died); the coordinator restores and replays. */
  abort(): void {
    this.prev?.abort();
    this.next?.abort();
  }

  /** Independent groups: the named groups learn from the next `lrs.length` batches; the summed loss per step. */
  trainGroups(groups: string[], lrs: number[]): Promise<number[]> {
    const ctx = this.context();
    const names = ctx.rule.groups().map((g) => g.name);
    const indices = groups.map((g) => {
      const i = names.indexOf(g);
      return i >= 0
        ? i
        : fail('INVALID_ARGUMENT', `${this.label}: ${ctx.rule.name} has no group '${g}'`, `use one of: ${names}`);
    });
    return trainIndependent(ctx, indices, lrs);
  }

  /** A pipeline stage's share of the steps: the forward-pipeline or GPipe program, as the rule declares. */
  trainPipeline(r: PipelineRequest): Promise<number[]> {
    const ctx = this.context();
    const kind = ctx.rule.parallelism()?.kind;
    if (kind === 'forward-pipeline') return trainForwardPipeline(ctx, r);
    if (kind === 'gpipe') return trainGPipe(ctx, r);
    return fail(
      'INVALID_ARGUMENT',
      `${this.label}: ${ctx.rule.name} declares no pipeline (its parallelism is ${kind ?? 'none'})`,
      'train independent groups with trainGroups, or build the stage from a rule that declares a pipeline',
    );
  }

  /** Inference: `count` micro-batches pass segments [first, end) of the rule's chain on their way through. */
  predict(first: number, end: number, count: number): Promise<void> {
    return predictRange(this.context(), first, end, count);
  }

  /** Explanations spread over workers: this replica's class scores for a share of a batch. */
  explainScores(x: Float32Array, batch: number): Promise<Float32Array> {
    return this.explanation.scores(this.context(), x, batch);
  }

  /** …and its input gradients (plain or guided) for that share. */
  explainGradients(x: Float32Array, batch: number, targets: Int32Array, rule: GradientRule): Promise<Float32Array> {
    return this.explanation.gradients(this.context(), x, batch, targets, rule);
  }

  /** Holds an ONNX model in onnxruntime as this stage's frozen feature extractor (replacing one held before). */
  async loadFrozen(bytes: Uint8Array, o: FrozenOptions = {}): Promise<void> {
    await this.frozen?.release();
    this.frozen = null;
    this.frozen = await FrozenSession.open(bytes, o);
  }

  /** The frozen model's output for a batch [N, ...sample]. */
  async runFrozen(x: Float32Array, shape: number[]): Promise<{ data: Float32Array; shape: number[] }> {
    const f = this.frozen ?? fail('INVALID_ARGUMENT', `${this.label} holds no frozen model`, 'call loadFrozen first');
    return f.run(x, shape);
  }

  /** Fault injection: destroys this stage's WebGPU device (its `lost` promise fires), as a GPU reset would. */
  loseDevice(): boolean {
    const b = this.built?.backend;
    if (!b?.destroy) return false;
    b.destroy();
    return true;
  }

  async saveGroups(names: string[]): Promise<Record<string, GroupState>> {
    return saveGroups(this.context().rule, names);
  }

  loadGroups(states: Record<string, GroupState>): void {
    const rule = this.context().rule;
    for (const [n, s] of Object.entries(states)) rule.loadGroup(n, s);
  }

  stats(): StageStats {
    const b = this.context().backend;
    const threads = b.capabilities().threadsInUse;
    return {
      backend: b.flavour,
      threads: typeof threads === 'number' ? threads : 1,
      bytesSent: this.bytesSentBefore + (this.prev?.bytesSent ?? 0) + (this.next?.bytesSent ?? 0),
      peakTensorBytes: b.memory().peakBytesInUse,
      waitMs: this.waitMsBefore + (this.prev?.waitMs ?? 0) + (this.next?.waitMs ?? 0),
      liveTensors: liveTensors(),
    };
  }

  /** This stage as its programs see it; a typed error before `init`. */
  private context(): StageContext {
    const label = this.label;
    const { config, rule, backend } =
      this.built ?? fail('INVALID_ARGUMENT', `${label} used before init`, 'call init first');
    const declared = rule.parallelism();
    return {
      config,
      rule,
      backend,
      label,
      parallelism: <K extends Parallelism['kind']>(kind: K) =>
        declared?.kind === kind
          ? (declared as Extract<Parallelism, { kind: K }>)
          : fail(
              'INVALID_ARGUMENT',
              `${label}: ${rule.name} declares ${declared?.kind ?? 'no'} parallelism, not ${kind}`,
              'run the program of the parallelism the rule declares',
            ),
      chain: (): SegmentChain =>
        declared && 'forward' in declared
          ? declared
          : fail(
              'INVALID_ARGUMENT',
              `${label}: ${rule.name} has no chain of segments to pipeline`,
              'pipeline a model whose rule declares a pipeline; independent groups run side by side instead',
            ),
      holdsData: () => this.data !== null,
      batches: () => this.data ?? fail('INVALID_ARGUMENT', `${label} has no data`, 'call setData first'),
      prev: () => this.prev ?? fail('INVALID_ARGUMENT', `${label} has no previous stage`, 'connect the pipeline first'),
      next: () => this.next ?? fail('INVALID_ARGUMENT', `${label} has no next stage`, 'connect the pipeline first'),
    };
  }
}
