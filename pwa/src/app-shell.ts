import { LitElement, css, html, nothing } from 'lit';
import * as lh from '../../src/index.js';
import type { Attribution, MethodName, VersionInfo } from '../../src/index.js';
import {
  ImportRefused,
  Personalizer,
  type Accuracy,
  type LearnPoint,
  type Score,
  type Status,
} from './personalizer.js';
import type { DrawPad } from './draw-pad.js';
import './draw-pad.js';
import './learning-plot.js';

const METHODS: [MethodName, string, string][] = [
  [
    'integrated-gradients',
    'Integrated gradients',
    'how much each pixel adds to the score on the way from a blank image to yours (red: for this digit, blue: against)',
  ],
  [
    'smoothgrad',
    'SmoothGrad',
    'the gradient averaged over noisy copies of your drawing: where a small change moves the score most',
  ],
  ['occlusion', 'Occlusion', 'how much the score drops when each 4×4 patch is blanked out'],
  ['grad-cam', 'Grad-CAM', 'which regions the last convolution layer looked at for this digit'],
  ['kernel-shap', 'KernelSHAP', "Shapley values of 4×4 patches: each patch's fair share of the score"],
  ['lime', 'LIME', 'a simple linear model of the network around your drawing, by patch'],
  ['saliency', 'Saliency', 'the size of the gradient: where a tiny change in ink matters most'],
];

type Tab = 'teach' | 'explain' | 'model' | 'start';

/** Set in localStorage while Learn runs: still there on the next load means the page went away mid-Learn. */
const LEARNING_KEY = 'layerhive-app:learning';
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
const pct = (s: Score) => (s.total ? `${((100 * s.correct) / s.total).toFixed(0)}%` : '–');

/**
 * A failed ONNX import in words a person understands (the library's message names protobuf offsets and opsets):
 * what is wrong with the file, and what to do instead.
 */
export function importProblem(file: string, e: unknown): string {
  const { detail = (e as Error)?.message ?? String(e), hint = '' } = e as { detail?: string; hint?: string };
  const op = /has op (\w+)/.exec(detail)?.[1];
  if (e instanceof ImportRefused) return `“${file}” ${e.message}.`;
  if (/^the bytes are not an ONNX model/.test(detail) || /damaged/.test(hint))
    return `“${file}” is not an ONNX model, or it is damaged. Choose a .onnx file, such as one exported here.`;
  if (op) return `“${file}” uses ${op}, an operation this app cannot run. Choose a model made of common layers.`;
  if (/opset/.test(detail))
    return `“${file}” was saved for a version of ONNX this app cannot read. Export it again with a common opset.`;
  return `“${file}” is an ONNX model this app cannot use (its layers or weights do not fit together).`;
}

/** The app: draw, teach, learn, predict and explain, and manage the model — all on this device. */
export class AppShell extends LitElement {
  static override properties = {
    tab: { state: true },
    status: { state: true },
    probs: { state: true },
    points: { state: true },
    learning: { state: true },
    done: { state: true },
    message: { state: true },
    attribution: { state: true },
    method: { state: true },
    versions: { state: true },
    quota: { state: true },
    explaining: { state: true },
    running: { state: true },
    importError: { state: true },
    note: { state: true },
    scores: { state: true },
  };
  declare tab: Tab;
  declare status: Status | null;
  declare probs: Float64Array | null;
  declare points: LearnPoint[];
  declare learning: boolean;
  declare explaining: boolean;
  declare done: number;
  declare message: string;
  declare attribution: Attribution | null;
  declare method: MethodName;
  declare versions: VersionInfo[];
  declare quota: { usage: number; quota: number } | null;
  /** The actions (by name) now running: a second click on one while it runs does nothing. */
  declare running: ReadonlySet<string>;
  /** Why the last import was refused, shown by the import control. */
  declare importError: string;
  /** A note about the last visit (an interrupted Learn), until dismissed. */
  declare note: string;
  /** The accuracy before and after the last Learn, on your samples kept aside and on the MNIST digits. */
  declare scores: { before: Accuracy; after: Accuracy } | null;
  private model: Personalizer;
  private base = new URL('./', import.meta.url);
  private shown: Uint8Array | null = null;
  /** The library's own words for the last refused import (for someone who wants them, under "details"). */
  private importDetail = '';

  static override styles = css`
    :host {
      display: block; max-width: 960px; margin: 0 auto; padding: 12px; box-sizing: border-box;
      font: 15px/1.4 system-ui, sans-serif; color: #1f2328;
    }
    * { box-sizing: border-box; }
    header h1 { font-size: 20px; margin: 0 0 4px; }
    header p { margin: 0 0 12px; color: #57606a; font-size: 13px; }
    .layout { display: grid; grid-template-columns: minmax(0, 320px) minmax(0, 1fr); gap: 16px; }
    @media (max-width: 700px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    nav { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
    nav button[aria-selected='true'] { background: #1f6feb; color: #fff; border-color: #1f6feb; }
    button, select {
      font: inherit; padding: 8px 12px; border-radius: 8px; border: 1px solid #d0d7de; background: #f6f8fa;
      cursor: pointer; min-height: 40px;
    }
    button:disabled { opacity: 0.5; cursor: default; }
    .digits { display: grid; grid-template-columns: repeat(5, 1fr); gap: 6px; margin: 8px 0; }
    .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
    .bar {
      display: grid; grid-template-columns: 1.2em minmax(0, 1fr) 3.5em; gap: 6px; align-items: center;
      font-variant-numeric: tabular-nums;
    }
    .bar div { height: 14px; background: #1f6feb; border-radius: 3px; }
    .bar.top div { background: #1a7f37; }
    progress { width: 100%; height: 16px; }
    canvas.map {
      width: 100%; max-width: 280px; aspect-ratio: 1; image-rendering: pixelated; border-radius: 8px; background: #000;
    }
    pre {
      white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: 8px; border-radius: 8px;
      font-size: 12px;
    }
    table { border-collapse: collapse; width: 100%; font-size: 13px; }
    td, th { border-bottom: 1px solid #eee; padding: 4px; text-align: left; }
    .msg { color: #57606a; min-height: 1.4em; }
    .pad { position: relative; }
    .import .error { color: #cf222e; margin: 4px 0 0; }
    .import details { font-size: 12px; color: #57606a; }
    .note { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 8px; padding: 8px; margin: 0 0 12px; }
    .note button { margin-left: 8px; min-height: 32px; padding: 2px 10px; }
  `;

  constructor() {
    super();
    this.tab = 'teach';
    this.status = null;
    this.probs = null;
    this.points = [];
    this.learning = false;
    this.explaining = false;
    this.done = 0;
    this.message = 'loading the model…';
    this.attribution = null;
    this.method = 'integrated-gradients';
    this.versions = [];
    this.quota = null;
    this.running = new Set();
    this.importError = '';
    this.note = '';
    this.scores = null;
    const backend = new URLSearchParams(location.search).get('backend') ?? 'wasm';
    this.model = new Personalizer(new URL('./stage.worker.js', import.meta.url), backend);
  }

  override async firstUpdated(): Promise<void> {
    try {
      this.status = await this.model.start(this.base);
      this.message = `ready: ${this.status.source}`;
      await this.noteInterruptedLearn();
      await this.refreshModelTab();
    } catch (e) {
      this.message = `could not start: ${(e as Error).message}`;
    }
  }

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('beforeunload', this.beforeUnload);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('beforeunload', this.beforeUnload);
  }

  /** Leaving while Learn runs loses the run: the browser asks first. */
  private beforeUnload = (e: BeforeUnloadEvent) => {
    if (!this.learning) return;
    e.preventDefault();
    e.returnValue = ''; // older Chromium asks only when returnValue is set
  };

  /** A Learn that was running when the page last went away (its mark is still in localStorage) gets a note. */
  private async noteInterruptedLearn(): Promise<void> {
    if (!localStorage.getItem(LEARNING_KEY)) return;
    // the mark of a Learn still running in another tab (it holds the lock of that name) is not an interruption
    const held = await navigator.locks?.query().then((q) => q.held ?? []);
    if (held?.some((l) => l.name === LEARNING_KEY)) return;
    localStorage.removeItem(LEARNING_KEY); // said once
    const n = this.status?.samples ?? 0;
    this.note =
      'Learn was interrupted last time (the page was closed or reloaded before it finished), so no new version ' +
      `was saved. Your ${plural(n, 'sample')} ${n === 1 ? 'is' : 'are'} kept: press Learn to try again.`;
  }

  /**
   * Runs `work` as the action `name` unless it is the second click of a double-click (`detail` counts the clicks)
   * or `name` is still running: one click, one action — one sample, one download, one question.
   */
  private async act(e: Event | undefined, name: string, work: () => Promise<void>): Promise<void> {
    if (e instanceof MouseEvent && e.detail > 1) return;
    if (this.running.has(name)) return;
    this.running = new Set([...this.running, name]);
    try {
      await work();
    } finally {
      const left = new Set(this.running);
      left.delete(name);
      this.running = left;
    }
  }

  private get pad(): DrawPad {
    return this.renderRoot.querySelector('lh-draw-pad') as DrawPad;
  }

  private async onStroke(): Promise<void> {
    const d = this.pad.digit();
    if (!d || !this.status) return;
    this.shown = d;
    this.attribution = null;
    // a new drawing makes the last hint or result stale ("draw a digit first" beside a prediction); a message about
    // work still running stays
    if (!this.learning && !this.explaining && !this.running.size) this.message = '';
    try {
      this.probs = await this.model.predict(d);
    } catch (e) {
      this.message = `could not predict: ${(e as Error).message}`;
    }
  }

  private clearPad(): void {
    this.pad.clear();
    this.probs = null;
    this.attribution = null;
    this.shown = null;
  }

  private async teach(label: number): Promise<void> {
    const d = this.pad.digit();
    if (!d) {
      this.message = 'draw a digit first';
      return;
    }
    await this.model.addSample(d, label);
    // the model's status, not a copy of this element's: the count is the one IndexedDB holds
    this.status = { ...this.model.status };
    this.message = `kept as a ${label} (${plural(this.status.samples, 'sample')})`;
    this.clearPad();
  }

  private async learn(): Promise<void> {
    if (this.learning) return;
    this.learning = true;
    this.note = '';
    localStorage.setItem(LEARNING_KEY, String(Date.now()));
    this.points = [];
    this.done = 0;
    this.message = 'learning on the workers…';
    try {
      const run = () =>
        this.model.learn((p) => {
          this.points = [...this.points, p];
          this.done = p.done;
        });
      // held while learning: another tab that loads meanwhile sees that this Learn is running, not interrupted
      const r = navigator.locks ? await navigator.locks.request(LEARNING_KEY, run) : await run();
      this.status = { ...this.model.status };
      if (this.shown) this.probs = await this.model.predict(this.shown);
      await this.refreshModelTab();
      this.scores = { before: r.before, after: r.after };
      const { mine, replay } = r.after;
      this.message =
        'learned: ' +
        (mine.total
          ? `${pct(mine)} on your ${plural(mine.total, 'digit')} kept aside (${pct(r.before.mine)} before); `
          : 'no digits kept aside to test on yet; ') +
        `${pct(replay)} on ${replay.total} MNIST digits (${pct(r.before.replay)} before); ` +
        `saved as version ${r.version}`;
    } catch (e) {
      this.message = `learning failed: ${(e as Error).message}`;
    } finally {
      localStorage.removeItem(LEARNING_KEY);
      this.learning = false;
    }
  }

  private async explain(): Promise<void> {
    if (this.explaining) return;
    if (!this.shown) {
      this.message = 'draw a digit to explain';
      return;
    }
    this.explaining = true;
    try {
      const t0 = performance.now();
      this.attribution = await this.model.explain(this.shown, this.method);
      this.message =
        `${this.method}: ${this.attribution.modelCalls} model calls, ` +
        `${(performance.now() - t0).toFixed(0)} ms, class ${this.attribution.target}`;
      await this.updateComplete;
      const pic = lh.overlayPicture(lh.normalizePixels(this.shown), this.attribution.values, [1, 28, 28], 10);
      const c = this.renderRoot.querySelector('canvas.map') as HTMLCanvasElement;
      c.width = pic.width;
      c.height = pic.height;
      c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pic.rgba), pic.width, pic.height), 0, 0);
    } catch (e) {
      this.message = `explaining failed: ${(e as Error).message}`;
    } finally {
      this.explaining = false;
    }
  }

  private async refreshModelTab(): Promise<void> {
    this.versions = await this.model.versions();
    this.quota = await lh.storageEstimate();
  }

  private async rollback(v: number): Promise<void> {
    await this.model.rollback(v);
    this.status = { ...this.model.status };
    await this.refreshModelTab();
    this.message = `back to version ${v}`; // the message says the work, the versions table included, is done
  }

  private async forget(): Promise<void> {
    if (!confirm('Delete all your samples and every saved version of your model?')) return;
    await this.model.forget(this.base);
    this.status = { ...this.model.status };
    this.clearPad();
    await this.refreshModelTab();
    this.message = 'forgotten: your samples and models are deleted; the base model is back';
  }

  private async exportOnnx(): Promise<void> {
    const bytes = await this.model.exportOnnx();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    a.download = 'my-digits.onnx';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    this.message = `exported my-digits.onnx (${bytes.length} bytes)`;
  }

  private async importOnnx(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    this.importError = '';
    this.importDetail = '';
    try {
      await this.model.importOnnx(new Uint8Array(await file.arrayBuffer()));
      this.status = { ...this.model.status };
      await this.refreshModelTab();
      this.message = `imported ${file.name}`;
    } catch (err) {
      // said by the import control, in words; the library's own message stays available under "details"
      this.importError = importProblem(file.name, err);
      this.importDetail = (err as Error).message;
      this.message = '';
    } finally {
      input.value = ''; // the same file chosen again is a new change
    }
  }

  override render() {
    const tabs: [Tab, string][] = [
      ['teach', 'Teach'],
      ['explain', 'Predict & explain'],
      ['model', 'My model'],
      ['start', 'About'],
    ];
    const best = this.probs ? this.probs.indexOf(Math.max(...this.probs)) : -1;
    return html`
      <header><h1>Learn my handwriting</h1><p>Everything runs on this device: nothing you draw leaves it.</p></header>
      <nav role="tablist">${tabs.map(
        ([t, label]) =>
          html`<button role="tab" aria-selected=${this.tab === t} @click=${() => {
            this.tab = t;
          }}>${label}</button>`,
      )}</nav>
      ${
        this.note
          ? html`<p class="note" role="status">${this.note}<button @click=${() => {
              this.note = '';
            }}>OK</button></p>`
          : nothing
      }
      <div class="layout">
        <div class="pad">
          <lh-draw-pad @stroke=${this.onStroke}></lh-draw-pad>
          <div class="row"><button @click=${this.clearPad}>Clear</button>
            ${
              this.probs
                ? html`<span>I read a <b id="prediction">${best}</b> (${(100 * this.probs[best]).toFixed(0)}%)</span>`
                : html`<span>draw a digit</span>`
            }</div>
          <p class="msg" role="status">${this.message}</p>
        </div>
        <section>${
          this.tab === 'teach'
            ? this.teachTab()
            : this.tab === 'explain'
              ? this.explainTab(best)
              : this.tab === 'model'
                ? this.modelTab()
                : this.startTab()
        }</section>
      </div>`;
  }

  private teachTab() {
    return html`
      <p>Draw a digit, then say which it is:</p>
      <div class="digits">${Array.from(
        { length: 10 },
        (_, d) =>
          html`<button class="digit" data-digit=${d} ?disabled=${!this.status || this.learning}
            @click=${(e: Event) => this.act(e, 'teach', () => this.teach(d))}>${d}</button>`,
      )}</div>
      <div class="row"><button id="learn" ?disabled=${!this.status || this.learning || !this.status?.samples}
        @click=${(e: Event) => this.act(e, 'learn', () => this.learn())}>Learn from my ${plural(
          this.status?.samples ?? 0,
          'sample',
        )}</button></div>
      <p class="aside">${this.asideText()}</p>
      ${this.scoresTable()}
      ${
        this.learning || this.points.length
          ? html`<progress max="1" .value=${this.done}></progress><lh-learning-plot
              .points=${this.points}></lh-learning-plot>`
          : nothing
      }`;
  }

  /** Which samples the accuracy is measured on, so a person can trust it. */
  private asideText(): string {
    const n = this.status?.heldOut ?? 0,
      all = this.status?.samples ?? 0;
    return n
      ? `${n} of your ${plural(all, 'sample')} ${n === 1 ? 'is' : 'are'} kept aside to test on (the 2nd, 7th, … ` +
          'of each digit): Learn does not learn from them.'
      : 'Teach a digit twice and the second is kept aside to test on: Learn does not learn from it.';
  }

  private scoresTable() {
    if (!this.scores) return nothing;
    const { before, after } = this.scores;
    return html`<table class="scores"><tr><th>accuracy</th><th>before</th><th>after</th></tr>
      <tr><td>your ${plural(after.mine.total, 'digit')} kept aside</td><td>${pct(before.mine)}</td>
        <td>${pct(after.mine)}</td></tr>
      <tr><td>${after.replay.total} MNIST digits</td><td>${pct(before.replay)}</td><td>${pct(after.replay)}</td></tr>
    </table>`;
  }

  private explainTab(best: number) {
    const about = METHODS.find(([m]) => m === this.method)!;
    return html`
      ${
        this.probs
          ? html`<div>${Array.from(
              this.probs,
              (p, d) =>
                html`<div class="bar ${d === best ? 'top' : ''}"><span>${d}</span><div
                  style="width:${(100 * p).toFixed(1)}%"></div><span>${(100 * p).toFixed(1)}%</span></div>`,
            )}</div>`
          : html`<p>Draw a digit to see what the model reads.</p>`
      }
      <div class="row">
        <select aria-label="attribution method" @change=${(e: Event) => {
          this.method = (e.target as HTMLSelectElement).value as MethodName;
          this.attribution = null;
        }}>
          ${METHODS.map(
            ([m, name]) => html`<option value=${m} ?selected=${m === this.method}>${name}</option>`,
          )}</select>
        <button id="explain" ?disabled=${!this.shown || this.explaining || this.learning}
          @click=${(e: Event) => this.act(e, 'explain', () => this.explain())}>Why?</button>
      </div>
      <p>${about[1]} shows ${about[2]}.</p>
      <canvas class="map" width="280" height="280" ?hidden=${!this.attribution}></canvas>`;
  }

  private modelTab() {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
    return html`
      <p>${this.status?.source ?? '…'}</p>
      ${
        this.versions.length
          ? html`<table><tr><th>version</th><th>saved</th><th>size</th><th>accuracy (kept aside)</th><th></th></tr>
        ${[...this.versions].reverse().map(
          (
            v,
          ) => html`<tr><td>${v.version}</td><td>${new Date(v.createdAt).toLocaleString()}</td><td>${mib(v.bytes)}</td>
          <td>${v.meta.accuracy !== undefined ? `${(100 * Number(v.meta.accuracy)).toFixed(0)}%` : ''}</td>
          <td>${
            v.version === this.status?.version
              ? 'in use'
              : html`<button ?disabled=${this.running.has('rollback')}
                  @click=${(e: Event) => this.act(e, 'rollback', () => this.rollback(v.version))}>Use this</button>`
          }</td></tr>`,
        )}</table>`
          : html`<p>No saved versions yet: teach and learn first.</p>`
      }
      <p>Storage: ${this.quota ? `${mib(this.quota.usage)} used of ${mib(this.quota.quota)}` : 'unknown'}</p>
      <div class="row"><button id="export" ?disabled=${this.running.has('export')}
        @click=${(e: Event) => this.act(e, 'export', () => this.exportOnnx())}>Export ONNX</button></div>
      <div class="import">
        <label>Import ONNX <input type="file" accept=".onnx" aria-describedby="import-error"
          @change=${(e: Event) => this.act(undefined, 'import', () => this.importOnnx(e))}></label>
        <p id="import-error" class="error" role="alert">${this.importError}</p>
        ${this.importDetail ? html`<details><summary>details</summary>${this.importDetail}</details>` : nothing}
      </div>
      <div class="row"><button id="forget" ?disabled=${this.running.has('forget')}
        @click=${(e: Event) => this.act(e, 'forget', () => this.forget())}>Forget me (delete my data and model)</button>
      </div>`;
  }

  private startTab() {
    return html`
      <p>${this.status?.source ?? 'loading…'}</p>
      <p>Workers: ${this.status?.backends.map(
        (b, i) =>
          html`<span class="backend">worker ${i}: ${b}</span>${i + 1 < this.status!.backends.length ? ', ' : ''}`,
      )}</p>
      <p>Where the layers run:</p><pre>${this.status?.plan ?? ''}</pre>
      <p>Learning is tpSGD on the last layer of a CNN shipped with the app (trained by backprop on MNIST); explanations
        run on the same workers. Samples and models stay in this browser's storage.</p>`;
  }
}
customElements.define('lh-app', AppShell);
