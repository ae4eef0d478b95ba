/**
 * A learning rule that lives only in the test folder: two segments, each learning on its own from the labels
 * (the lower one through a fixed random read-out, the upper one from cross-entropy), declared as a forward pipeline.
 * It registers itself with whichever copy of layerhive `register` gets — the built package here, so that the stage
 * workers (which run dist/) can build it from its config: proof that src/parallel needs no edit for a new rule.
 * Plain JavaScript: a Node worker imports it as it is.
 */

/** @param {typeof import('../../../src/index.js')} lh */
export function register(lh) {
  lh.registerRule('toy-local', {
    parallelism: () => 'forward-pipeline',
    create: (config, backend) => new ToyLocal(lh, config, backend),
  });
}

class ToyLocal {
  name = 'toy-local';
  /**
   * @param {typeof import('../../../src/index.js')} lh
   * @param {import('../../../src/index.js').RuleConfig} config
   * @param {import('../../../src/index.js').Backend} backend
   */
  constructor(lh, config, backend) {
    this.lh = lh;
    this.backend = backend;
    this.rng = new lh.Rng(config.seed);
    const layers = [{ type: 'flatten' }, { type: 'dense', units: 32 }, { type: 'tanh' }, { type: 'dense', units: 10 }];
    this.model = new lh.nn.Sequential({ input: config.inputShape, layers }, { backend, rng: this.rng });
    // the lower segment's fixed read-out [32, classes]: its local loss is the cross-entropy of h·R
    const r = new lh.Rng(config.seed + 1).fillUniform(new Float32Array(32 * config.classes), -0.3, 0.3);
    this.readout = lh.keep(lh.tensor(r, [32, config.classes], 'float32', backend));
    this.segments = [
      { name: 'low', from: 0, to: 3, optimizer: lh.createOptimizer(config.optimizer) },
      { name: 'high', from: 3, to: 4, optimizer: lh.createOptimizer(config.optimizer) },
    ];
  }

  /** @param {number} from @param {number} to */
  paramsOf(from, to) {
    return new Map([...this.model.namedParams()].filter(([k]) => +k.split('.')[0] >= from && +k.split('.')[0] < to));
  }

  /** Segments [first, end) learn in turn from one batch; the last one's output (null after 'high') and loss sum. */
  trainRange(x, y, first, end) {
    const lh = this.lh;
    return lh.tidy(() => {
      let h = x,
        loss = lh.zeros([], 'float32', this.backend);
      for (let k = first; k < end; k++) {
        const s = this.segments[k];
        const ctx = { training: true, rng: this.rng };
        const { y: o, caches } = this.model.forwardWithCache(h, ctx, s.from, s.to);
        const logits = k === 0 ? lh.matmul(o, this.readout) : o;
        const dLogits = lh.crossEntropyGrad(logits, y);
        const dy = k === 0 ? lh.matmul(dLogits, this.readout, { transposeB: true }) : dLogits;
        const { grads } = this.model.backwardWithCache(dy, caches, s.from, s.to, false);
        s.optimizer.step(this.paramsOf(s.from, s.to), grads);
        loss = lh.add(loss, lh.crossEntropy(logits, y));
        h = o;
      }
      return { out: end < this.segments.length ? h : null, loss };
    });
  }

  parallelism() {
    return {
      kind: 'forward-pipeline',
      segments: 2,
      forward: (h, first, end) =>
        this.lh.tidy(
          () =>
            this.model.forwardWithCache(h, { training: false }, this.segments[first].from, this.segments[end - 1].to).y,
        ),
      train: (h, y, first, end) => this.trainRange(h, y, first, end),
    };
  }

  trainStep(x, y) {
    return { loss: this.trainRange(x, y, 0, 2).loss };
  }
  predict(x) {
    return this.model.predict(x);
  }
  params() {
    return this.model.namedParams();
  }
  buffers() {
    return new Map([['readout', this.readout]]);
  }
  groups() {
    return this.segments.map((s, i) => ({
      name: s.name,
      params: [...this.paramsOf(s.from, s.to).keys()],
      reads: [i === 0 ? 'x' : 'output:low', 'y'],
      waitsFor: [],
    }));
  }
  saveGroup(name) {
    const s = this.segments.find((g) => g.name === name);
    return this.lh.saveGroupState(this.paramsOf(s.from, s.to), s.optimizer, this.rng);
  }
  loadGroup(name, state) {
    const s = this.segments.find((g) => g.name === name);
    this.lh.loadGroupState(name, state, this.paramsOf(s.from, s.to), s.optimizer, this.rng);
  }
  setLr(lr) {
    for (const s of this.segments) s.optimizer.lr = lr;
  }
  dispose() {
    for (const s of this.segments) s.optimizer.dispose();
    this.readout.dispose();
  }
}
