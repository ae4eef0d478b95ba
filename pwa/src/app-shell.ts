import { LitElement, css, html, nothing } from 'lit';
import * as lh from '../../src/index.js';
import type { Attribution, MethodName, VersionInfo } from '../../src/index.js';
import { Personalizer, type LearnPoint, type Status } from './personalizer.js';
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
  private model: Personalizer;
  private base = new URL('./', import.meta.url);
  private shown: Uint8Array | null = null;

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
    const backend = new URLSearchParams(location.search).get('backend') ?? 'wasm';
    this.model = new Personalizer(new URL('./stage.worker.js', import.meta.url), backend);
  }

  override async firstUpdated(): Promise<void> {
    try {
      this.status = await this.model.start(this.base);
      this.message = `ready: ${this.status.source}`;
      await this.refreshModelTab();
    } catch (e) {
      this.message = `could not start: ${(e as Error).message}`;
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
    this.status = { ...this.status! };
    this.message = `kept as a ${label} (${this.status.samples} samples)`;
    this.clearPad();
  }

  private async learn(): Promise<void> {
    this.learning = true;
    this.points = [];
    this.done = 0;
    this.message = 'learning on the workers…';
    try {
      const r = await this.model.learn((p) => {
        this.points = [...this.points, p];
        this.done = p.done;
      });
      this.status = { ...this.model.status };
      if (this.shown) this.probs = await this.model.predict(this.shown);
      await this.refreshModelTab();
      this.message = `learned: ${(100 * r.accuracy).toFixed(0)}% on your digits; saved as version ${r.version}`;
    } catch (e) {
      this.message = `learning failed: ${(e as Error).message}`;
    } finally {
      this.learning = false;
    }
  }

  private async explain(): Promise<void> {
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
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      await this.model.importOnnx(new Uint8Array(await file.arrayBuffer()));
      this.status = { ...this.model.status };
      await this.refreshModelTab();
      this.message = `imported ${file.name}`;
    } catch (err) {
      this.message = `import failed: ${(err as Error).message}`;
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
            @click=${() => this.teach(d)}>${d}</button>`,
      )}</div>
      <div class="row"><button id="learn" ?disabled=${!this.status || this.learning || !this.status?.samples}
        @click=${this.learn}>Learn from my ${this.status?.samples ?? 0} samples</button></div>
      ${
        this.learning || this.points.length
          ? html`<progress max="1" .value=${this.done}></progress><lh-learning-plot
              .points=${this.points}></lh-learning-plot>`
          : nothing
      }`;
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
          @click=${this.explain}>Why?</button>
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
          ? html`<table><tr><th>version</th><th>saved</th><th>size</th><th>accuracy</th><th></th></tr>
        ${[...this.versions].reverse().map(
          (
            v,
          ) => html`<tr><td>${v.version}</td><td>${new Date(v.createdAt).toLocaleString()}</td><td>${mib(v.bytes)}</td>
          <td>${v.meta.accuracy !== undefined ? `${(100 * Number(v.meta.accuracy)).toFixed(0)}%` : ''}</td>
          <td>${
            v.version === this.status?.version
              ? 'in use'
              : html`<button @click=${() => this.rollback(v.version)}>Use this</button>`
          }</td></tr>`,
        )}</table>`
          : html`<p>No saved versions yet: teach and learn first.</p>`
      }
      <p>Storage: ${this.quota ? `${mib(this.quota.usage)} used of ${mib(this.quota.quota)}` : 'unknown'}</p>
      <div class="row"><button id="export" @click=${this.exportOnnx}>Export ONNX</button>
        <label>Import ONNX <input type="file" accept=".onnx" @change=${this.importOnnx}></label></div>
      <div class="row"><button id="forget" @click=${this.forget}>Forget me (delete my data and model)</button></div>`;
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
