import { LitElement, css, html, nothing } from 'lit';
import { aboutPanel } from './about-panel.js';
import type { DrawPad } from './draw-pad.js';
import { ExplainPanel } from './explain-panel.js';
import { ModelPanel } from './model-panel.js';
import { Personalizer, type Status } from './personalizer.js';
import type { Shell } from './shell.js';
import { LEARNING_KEY, TeachPanel, plural } from './teach-panel.js';
import './draw-pad.js';

type Tab = 'teach' | 'explain' | 'model' | 'start';

/**
 * The app: draw, teach, learn, predict and explain, and manage the model — all on this device. This element holds
 * the pad and the shared state (`Shell`); each tab is a panel of its own file.
 */
export class AppShell extends LitElement implements Shell {
  static override properties = {
    tab: { state: true },
    status: { state: true },
    probs: { state: true },
    message: { state: true },
    running: { state: true },
    note: { state: true },
  };
  declare tab: Tab;
  declare status: Status | null;
  declare probs: Float64Array | null;
  declare message: string;
  /** The actions (by name) now running: a second click on one while it runs does nothing. */
  declare running: ReadonlySet<string>;
  /** A note about the last visit (an interrupted Learn), until dismissed. */
  declare note: string;
  readonly model: Personalizer;
  readonly base = new URL('./', import.meta.url);
  shown: Uint8Array | null = null;
  private teachPanel = new TeachPanel(this);
  private explainPanel = new ExplainPanel(this);
  private modelPanel = new ModelPanel(this);

  static override styles = [
    css`
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
    progress { width: 100%; height: 16px; }
    pre {
      white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: 8px; border-radius: 8px;
      font-size: 12px;
    }
    table { border-collapse: collapse; width: 100%; font-size: 13px; }
    td, th { border-bottom: 1px solid #eee; padding: 4px; text-align: left; }
    .msg { color: #57606a; min-height: 1.4em; }
    .pad { position: relative; }
    .note { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 8px; padding: 8px; margin: 0 0 12px; }
    .note button { margin-left: 8px; min-height: 32px; padding: 2px 10px; }
  `,
    ExplainPanel.styles,
    ModelPanel.styles,
  ];

  constructor() {
    super();
    this.tab = 'teach';
    this.status = null;
    this.probs = null;
    this.message = 'loading the model…';
    this.running = new Set();
    this.note = '';
    const backend = new URLSearchParams(location.search).get('backend') ?? 'wasm';
    this.model = new Personalizer(new URL('./stage.worker.js', import.meta.url), backend);
  }

  get learning(): boolean {
    return this.teachPanel.learning;
  }

  override async firstUpdated(): Promise<void> {
    try {
      this.status = await this.model.start(this.base);
      this.message = `ready: ${this.status.source}`;
      await this.noteInterruptedLearn();
      await this.modelPanel.refresh();
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

  async act(e: Event | undefined, name: string, work: () => Promise<void>): Promise<void> {
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

  async modelChanged(): Promise<void> {
    this.status = { ...this.model.status };
    this.explainPanel.reset();
    if (this.shown) this.probs = await this.model.predict(this.shown);
    await this.modelPanel.refresh();
  }

  private get pad(): DrawPad {
    return this.renderRoot.querySelector('lh-draw-pad') as DrawPad;
  }

  private async onStroke(): Promise<void> {
    const d = this.pad.digit();
    if (!d || !this.status) return;
    this.shown = d;
    this.explainPanel.reset();
    // a new drawing makes the last hint or result stale ("draw a digit first" beside a prediction); a message about
    // work still running stays
    if (!this.learning && !this.explainPanel.explaining && !this.running.size) this.message = '';
    try {
      this.probs = await this.model.predict(d);
    } catch (e) {
      this.message = `could not predict: ${(e as Error).message}`;
    }
  }

  clearPad(): void {
    this.pad.clear();
    this.probs = null;
    this.explainPanel.reset();
    this.shown = null;
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
            ? this.teachPanel.render()
            : this.tab === 'explain'
              ? this.explainPanel.render()
              : this.tab === 'model'
                ? this.modelPanel.render()
                : aboutPanel(this.status)
        }</section>
      </div>`;
  }
}
customElements.define('lh-app', AppShell);
