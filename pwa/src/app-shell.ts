import { LitElement, css, html, nothing } from 'lit';
import { aboutPanel } from './about-panel.js';
import { DeviceState } from './device-state.js';
import type { DrawPad } from './draw-pad.js';
import { ExplainPanel } from './explain-panel.js';
import { FolderImport } from './folder-import.js';
import { ModelPanel } from './model-panel.js';
import { Personalizer, type Status } from './personalizer.js';
import { SamplesPanel } from './samples-panel.js';
import type { Shell } from './shell.js';
import { LEARNING_KEY, TeachPanel, plural } from './teach-panel.js';
import { theme } from './theme.js';
import './draw-pad.js';

type Tab = 'teach' | 'explain' | 'model' | 'start';
const TABS: [Tab, string][] = [
  ['teach', 'Teach'],
  ['explain', 'Predict & explain'],
  ['model', 'My model'],
  ['start', 'About'],
];

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
  private folderImport = new FolderImport(this);
  private samplesPanel = new SamplesPanel(this);
  private device = new DeviceState(this);

  static override styles = [
    theme,
    css`
    :host {
      display: block; max-width: 960px; margin: 0 auto; padding: 8px 12px; box-sizing: border-box;
      font: 15px/1.4 system-ui, sans-serif;
    }
    * { box-sizing: border-box; }
    header { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin-bottom: 6px; }
    header h1 { font-size: 19px; margin: 0; flex: 1 1 auto; }
    header p { margin: 0; color: var(--muted); font-size: 13px; flex-basis: 100%; }
    .badge { font-size: 12px; padding: 2px 8px; border-radius: 999px; border: 1px solid var(--line); }
    .badge.offline { background: var(--note); border-color: var(--note-line); }
    .layout { display: grid; grid-template-columns: minmax(0, 320px) minmax(0, 1fr); gap: 16px; }
    nav { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 8px; }
    nav [aria-selected='true'] { background: var(--accent); color: var(--on-accent); border-color: var(--accent); }
    /* a phone: the pad, the digits, Learn and the prediction in the first screen */
    @media (max-width: 700px) {
      .layout { grid-template-columns: minmax(0, 1fr); gap: 4px; }
      nav { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 4px; }
      nav [role='tab'] { padding: 4px; font-size: 13px; line-height: 1.15; }
      lh-draw-pad { width: min(100%, calc(100svh - 480px)); min-width: 200px; margin: 0 auto; }
      .intro { display: none; }
    }
    .digits { display: grid; grid-template-columns: repeat(5, 1fr); gap: 6px; margin: 6px 0; }
    .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 6px 0; }
    progress { width: 100%; height: 16px; }
    pre {
      white-space: pre-wrap; word-break: break-word; background: var(--surface); padding: 8px; border-radius: 8px;
      font-size: 12px;
    }
    table { border-collapse: collapse; width: 100%; font-size: 13px; }
    td, th { border-bottom: 1px solid var(--line); padding: 4px; text-align: left; }
    h2.sub { font-size: 15px; margin: 12px 0 4px; }
    .msg { color: var(--muted); min-height: 1.4em; margin: 2px 0; }
    .pad { position: relative; }
    .note {
      background: var(--note); border: 1px solid var(--note-line); border-radius: 8px; padding: 8px; margin: 0 0 8px;
    }
    .note button { margin-left: 8px; }
  `,
    ExplainPanel.styles,
    ModelPanel.styles,
    FolderImport.styles,
    SamplesPanel.styles,
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
    if (!this.status) return;
    if (!d) return this.clearPad(); // the last stroke undone: nothing on the pad
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

  /** Arrow keys, Home and End move between the tabs (and focus the one chosen), as the ARIA tabs pattern says. */
  private tabKey(e: KeyboardEvent): void {
    const i = TABS.findIndex(([t]) => t === this.tab),
      n = TABS.length;
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1 + n, Home: 0, End: n - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    this.tab = TABS[to % n][0];
    void this.updateComplete.then(() => (this.renderRoot.querySelector(`#tab-${this.tab}`) as HTMLElement)?.focus());
  }

  override render() {
    const best = this.probs ? this.probs.indexOf(Math.max(...this.probs)) : -1;
    return html`
      <header><h1>Learn my handwriting</h1>
        ${
          this.device.online
            ? nothing
            : html`<span class="badge offline" role="status">offline: everything still works here</span>`
        }
        ${
          this.device.installable
            ? html`<button id="install" @click=${() => this.device.install()}>Install app</button>`
            : nothing
        }
        <p>Everything runs on this device: nothing you draw leaves it.</p></header>
      <nav role="tablist" aria-label="sections" @keydown=${this.tabKey}>${TABS.map(
        ([t, label]) =>
          html`<button role="tab" id=${`tab-${t}`} aria-controls=${`panel-${t}`} aria-selected=${this.tab === t}
            tabindex=${this.tab === t ? 0 : -1} @click=${() => {
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
            <button id="undo-stroke" ?disabled=${!this.shown} @click=${() => this.pad.undo()}>Undo stroke</button>
            ${
              this.probs
                ? html`<span>I read a <b id="prediction">${best}</b> (${(100 * this.probs[best]).toFixed(0)}%)</span>`
                : html`<span>draw a digit</span>`
            }</div>
          <p class="msg" role="status">${this.message}</p>
        </div>
        <section role="tabpanel" id=${`panel-${this.tab}`} aria-labelledby=${`tab-${this.tab}`}>${
          this.tab === 'teach'
            ? html`${this.teachPanel.render()}${this.folderImport.render()}${this.samplesPanel.render()}`
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
