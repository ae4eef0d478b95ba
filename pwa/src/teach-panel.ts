import { html, nothing, type ReactiveController } from 'lit';
import type { Score } from './learn-modes.js';
import type { Accuracy, LearnPoint } from './personalizer.js';
import { isMode, MODES, modeInfo, storedFigures, type LearnMode } from './learn-modes.js';
import type { Shell } from './shell.js';
import './learning-plot.js';

/** Set in localStorage while Learn runs: still there on the next load means the page went away mid-Learn. */
export const LEARNING_KEY = 'layerhive-app:learning';
export const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
const pct = (s: Score) => (s.total ? `${((100 * s.correct) / s.total).toFixed(0)}%` : '–');

/** The Teach tab: label the drawing, Learn from the samples, and how Learn went. */
export class TeachPanel implements ReactiveController {
  points: LearnPoint[] = [];
  /** Share of the running Learn done, 0…1. */
  done = 0;
  learning = false;
  /** The accuracy before and after the last Learn, on your samples kept aside and on the MNIST digits. */
  scores: { before: Accuracy; after: Accuracy } | null = null;

  constructor(private shell: Shell) {
    shell.addController(this);
  }

  hostUpdate(): void {}

  private async teach(label: number): Promise<void> {
    const { shell } = this;
    const digit = shell.shown;
    if (!digit) {
      shell.message = 'draw a digit first';
      return;
    }
    await shell.model.addSample(digit, label);
    // the model's status, not a copy of this element's: the count is the one IndexedDB holds
    shell.status = { ...shell.model.status };
    shell.message = `kept as a ${label} (${plural(shell.status.samples, 'sample')})`;
    shell.clearPad();
  }

  /** Learn from the samples, holding a mark (and a lock) that says so to the next load of the page. */
  private async learn(): Promise<void> {
    const { shell } = this;
    if (this.learning) return;
    this.learning = true;
    localStorage.setItem(LEARNING_KEY, String(Date.now()));
    this.points = [];
    this.done = 0;
    shell.message = 'learning on the workers…';
    shell.requestUpdate();
    try {
      const run = () =>
        shell.model.learn((p) => {
          this.points = [...this.points, p];
          this.done = p.done;
          shell.requestUpdate();
        });
      // held while learning: another tab that loads meanwhile sees that this Learn is running, not interrupted
      const r = navigator.locks ? await navigator.locks.request(LEARNING_KEY, run) : await run();
      await shell.modelChanged();
      this.scores = { before: r.before, after: r.after };
      const { mine, replay } = r.after;
      shell.message =
        'learned: ' +
        (mine.total
          ? `${pct(mine)} on your ${plural(mine.total, 'digit')} kept aside (${pct(r.before.mine)} before); `
          : 'no digits kept aside to test on yet; ') +
        `${pct(replay)} on ${replay.total} MNIST digits (${pct(r.before.replay)} before); ` +
        `saved as version ${r.version}`;
    } catch (e) {
      shell.message = `learning failed: ${(e as Error).message}`;
    } finally {
      localStorage.removeItem(LEARNING_KEY);
      this.learning = false;
      shell.requestUpdate();
    }
  }

  render() {
    const { shell } = this;
    const samples = shell.status?.samples ?? 0;
    return html`
      <p class="intro">Draw a digit, then say which it is:</p>
      <div class="digits">${Array.from(
        { length: 10 },
        (_, d) =>
          html`<button class="digit" data-digit=${d} ?disabled=${!shell.status || this.learning}
            @click=${(e: Event) => shell.act(e, 'teach', () => this.teach(d))}>${d}</button>`,
      )}</div>
      <div class="row"><button id="learn"
        ?disabled=${
          !shell.status || this.learning || !samples || shell.running.has('folder') || shell.running.has('unlearn')
        }
        @click=${(e: Event) => shell.act(e, 'learn', () => this.learn())}>Learn from my ${plural(
          samples,
          'sample',
        )}</button>${this.modeChooser()}</div>
      ${this.modesTable()}
      <p class="aside">${this.asideText()}</p>
      ${this.scoresTable()}
      ${
        this.learning || this.points.length
          ? html`<progress max="1" .value=${this.done}></progress><lh-learning-plot
              .points=${this.points}></lh-learning-plot>`
          : nothing
      }`;
  }

  /** How Learn learns: the mode chooser beside the Learn button. */
  private modeChooser() {
    const { shell } = this;
    const mode = shell.status?.mode;
    return html`<label class="mode">how: <select id="learn-mode" aria-label="how Learn learns"
      ?disabled=${!shell.status || this.learning || shell.running.has('mode')}
      @change=${(e: Event) => {
        const m = (e.target as HTMLSelectElement).value;
        if (isMode(m)) shell.act(undefined, 'mode', () => this.choose(m));
      }}>${MODES.map(
        (m) => html`<option value=${m.id} ?selected=${m.id === mode}>${m.name}</option>`,
      )}</select></label>`;
  }

  private async choose(mode: LearnMode): Promise<void> {
    const { shell } = this;
    shell.message = `switching to ${modeInfo(mode).name}…`;
    try {
      await shell.model.setMode(mode);
      shell.message = `Learn now uses ${modeInfo(mode).name}: ${shell.model.status.source}`;
    } catch (e) {
      shell.message = `could not switch to ${modeInfo(mode).name}: ${(e as Error).message}`;
    }
    await shell.modelChanged(); // the status and the chooser follow the mode in use, switched or not
  }

  /**
   * The trade-offs of the modes as measured on this device: the time and accuracies of the last Learn in each mode
   * (kept in localStorage), or "not tried yet".
   */
  private modesTable() {
    const mode = this.shell.status?.mode;
    const figures = storedFigures();
    const info = mode ? modeInfo(mode) : null;
    return html`<table class="modes"><tr><th>mode</th><th>last Learn here</th><th>your digits kept aside</th>
      <th>MNIST digits</th></tr>${MODES.map((m) => {
        const f = figures[m.id];
        const name = m.id === mode ? html`<b>${m.name}</b> (chosen)` : m.name;
        return html`<tr data-mode=${m.id}><td>${name}</td>${
          f
            ? html`<td>${f.seconds.toFixed(1)} s</td><td>${pct(f.mine)}</td><td>${pct(f.replay)}</td>`
            : html`<td colspan="3">not tried yet</td>`
        }</tr>`;
      })}</table>
      ${
        info
          ? html`<p class="mode-what">${info.name}: ${info.what}.${
              this.shell.status?.gradients === false
                ? ' Explanations of this model: occlusion, KernelSHAP and LIME (the gradient methods need a network ' +
                  'that gradients flow through; NoProp-DT predicts by denoising from noise in steps)'
                : ''
            }</p>`
          : nothing
      }`;
  }

  /** Which samples the accuracy is measured on, so a person can trust it. */
  private asideText(): string {
    const n = this.shell.status?.heldOut ?? 0,
      all = this.shell.status?.samples ?? 0;
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
}
