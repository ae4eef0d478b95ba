import { css, html, type ReactiveController } from 'lit';
import * as lh from '../../src/index.js';
import type { Attribution, MethodName } from '../../src/index.js';
import { legend, paintMap } from './heatmap-legend.js';
import { guideOf, METHODS } from './method-guide.js';
import type { Shell } from './shell.js';

/** What the map on show explains: the attribution, the scale it is drawn on, and the class predicted then. */
interface Shown {
  attribution: Attribution;
  values: Float32Array;
  scale: lh.MapScale;
  predicted: number;
}

/**
 * The Predict & explain tab: the class probabilities of the drawing, and why, by the method chosen, for the class
 * chosen (default: the one predicted; another answers "why not 7?"), with a legend and how to read it.
 */
export class ExplainPanel implements ReactiveController {
  static styles = css`
    .bar {
      display: grid; grid-template-columns: 1.2em minmax(0, 1fr) 3.5em; gap: 6px; align-items: center;
      font-variant-numeric: tabular-nums;
    }
    .bar div { height: 14px; background: var(--accent); border-radius: 3px; }
    .bar.top div { background: var(--good); }
    fieldset.classes { border: 0; padding: 0; margin: 8px 0; display: flex; flex-wrap: wrap; gap: 4px 10px; }
    fieldset.classes legend { padding: 0; margin-bottom: 4px; }
    fieldset.classes label { display: inline-flex; align-items: center; gap: 2px; min-height: 44px; min-width: 44px; }
    .explained { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; margin: 8px 0; }
    canvas.map {
      width: 100%; max-width: 280px; aspect-ratio: 1; image-rendering: pixelated; border-radius: 8px; background: #000;
    }
    .legend { flex: 1 1 220px; max-width: 360px; font-size: 14px; }
    .legend p { margin: 4px 0; }
    .legend-title { font-weight: 600; }
    .legend .scale { height: 14px; border-radius: 3px; border: 1px solid #888; }
    .legend .ends {
      display: flex; justify-content: space-between; font-size: 12px; font-variant-numeric: tabular-nums;
    }
    .how { font-size: 14px; }
  `;
  method: MethodName = 'integrated-gradients';
  /** The class to explain, when the person chose one; null: the class predicted. */
  target: number | null = null;
  attribution: Attribution | null = null;
  private shownMap: Shown | null = null;
  explaining = false;

  constructor(private shell: Shell) {
    shell.addController(this);
  }

  hostUpdate(): void {}

  /** A new drawing, or a new model: the explanation shown is no longer of it, and the class explained is the one
   * predicted again. */
  reset(): void {
    this.target = null;
    this.forget();
  }

  private forget(): void {
    this.attribution = null;
    this.shownMap = null;
    this.shell.requestUpdate();
  }

  private get predicted(): number {
    const probs = this.shell.probs;
    return probs ? probs.indexOf(Math.max(...probs)) : -1;
  }

  /** A class chosen: explained at once when there is a drawing (the map of the previous class is gone). */
  private choose(d: number): void {
    this.target = d === this.predicted ? null : d;
    this.forget();
    if (this.shell.shown && !this.shell.learning) void this.shell.act(undefined, 'explain', () => this.explain());
  }

  private async explain(): Promise<void> {
    const { shell } = this;
    if (this.explaining) return;
    if (!shell.shown) {
      shell.message = 'draw a digit to explain';
      return;
    }
    this.explaining = true;
    shell.requestUpdate();
    try {
      const pixels = shell.shown,
        guide = guideOf(this.method),
        predicted = this.predicted,
        t0 = performance.now();
      const a = await shell.model.explain(pixels, this.method, this.target ?? undefined, guide.options);
      const values = guide.display ? guide.display(a.values) : a.values;
      this.attribution = a;
      this.shownMap = { attribution: a, values, scale: lh.mapScale(values, guide.signed), predicted };
      shell.message =
        `${this.method}: ${a.modelCalls} model calls, ${(performance.now() - t0).toFixed(0)} ms, class ${a.target}` +
        (a.target === predicted ? ' (predicted)' : ` (predicted: ${predicted})`);
      shell.requestUpdate();
      await shell.updateComplete;
      const c = shell.renderRoot.querySelector('canvas.map') as HTMLCanvasElement;
      paintMap(c, pixels, values, this.shownMap.scale);
    } catch (e) {
      shell.message = `explaining failed: ${(e as Error).message}`;
    } finally {
      this.explaining = false;
      shell.requestUpdate();
    }
  }

  render() {
    const { shell } = this;
    const probs = shell.probs;
    const best = this.predicted;
    const chosen = this.target ?? best;
    // a model without gradients (NoProp-DT) is explained by the perturbation methods only
    const gradients = shell.status?.gradients !== false;
    if (!gradients && guideOf(this.method).gradient) this.method = METHODS.find((g) => !g.gradient)!.method;
    const guide = guideOf(this.method);
    const shown = this.shownMap;
    const busy = this.explaining || shell.learning;
    return html`
      ${
        probs
          ? html`<div>${Array.from(
              probs,
              (p, d) =>
                html`<div class="bar ${d === best ? 'top' : ''}"><span>${d}</span><div
                  style="width:${(100 * p).toFixed(1)}%"></div><span>${(100 * p).toFixed(1)}%</span></div>`,
            )}</div>`
          : html`<p>Draw a digit to see what the model reads.</p>`
      }
      <div class="row">
        <select aria-label="attribution method" @change=${(e: Event) => {
          this.method = (e.target as HTMLSelectElement).value as MethodName;
          this.forget();
        }}>
          ${METHODS.map(
            (g) => html`<option value=${g.method} ?selected=${g.method === this.method}
              ?disabled=${g.gradient && !gradients}>${g.name}${
                g.gradient && !gradients ? ' (needs gradients)' : ''
              }</option>`,
          )}</select>
        <button id="explain" ?disabled=${!shell.shown || busy}
          @click=${(e: Event) => shell.act(e, 'explain', () => this.explain())}>${
            chosen < 0 ? 'Why?' : chosen === best ? `Why ${best}?` : `Why not ${chosen}?`
          }</button>
      </div>
      ${
        probs
          ? html`<fieldset class="classes" ?disabled=${busy}>
              <legend>Class to explain (default: the one predicted)</legend>
              ${Array.from(
                { length: probs.length },
                (_, d) => html`<label><input type="radio" name="explain-class" value=${d} .checked=${d === chosen}
                  @change=${() => this.choose(d)}>${d}${d === best ? ' (predicted)' : ''}</label>`,
              )}
            </fieldset>`
          : ''
      }
      <p>${guide.name} shows ${guide.shows}.</p>
      <div class="explained">
        <canvas class="map" width="280" height="280" role="img" ?hidden=${!shown}
          aria-label=${
            shown
              ? `${guide.name} map of class ${shown.attribution.target}` +
                (shown.attribution.target === shown.predicted ? ' (predicted)' : ` (predicted: ${shown.predicted})`)
              : `${guide.name} map (none yet)`
          }></canvas>
        ${
          shown
            ? html`<div>
                ${legend(shown.scale, shown.attribution.target, shown.predicted)}
                <p class="how"><strong>How to read this:</strong> ${guide.read}</p>
              </div>`
            : html`<p class="how"><strong>How to read this:</strong> ${guide.read}</p>`
        }
      </div>`;
  }
}
