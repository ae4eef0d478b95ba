import { css, html, type ReactiveController } from 'lit';
import * as lh from '../../src/index.js';
import type { Attribution, MethodName } from '../../src/index.js';
import type { Shell } from './shell.js';

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

/** The Predict & explain tab: the class probabilities of the drawing, and why, by the method chosen. */
export class ExplainPanel implements ReactiveController {
  static styles = css`
    .bar {
      display: grid; grid-template-columns: 1.2em minmax(0, 1fr) 3.5em; gap: 6px; align-items: center;
      font-variant-numeric: tabular-nums;
    }
    .bar div { height: 14px; background: #1f6feb; border-radius: 3px; }
    .bar.top div { background: #1a7f37; }
    canvas.map {
      width: 100%; max-width: 280px; aspect-ratio: 1; image-rendering: pixelated; border-radius: 8px; background: #000;
    }
  `;
  method: MethodName = 'integrated-gradients';
  attribution: Attribution | null = null;
  explaining = false;

  constructor(private shell: Shell) {
    shell.addController(this);
  }

  hostUpdate(): void {}

  /** A new drawing, or a new model: the explanation shown is no longer of it. */
  reset(): void {
    this.attribution = null;
    this.shell.requestUpdate();
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
      const t0 = performance.now();
      this.attribution = await shell.model.explain(shell.shown, this.method);
      shell.message =
        `${this.method}: ${this.attribution.modelCalls} model calls, ` +
        `${(performance.now() - t0).toFixed(0)} ms, class ${this.attribution.target}`;
      shell.requestUpdate();
      await shell.updateComplete;
      const pic = lh.overlayPicture(lh.normalizePixels(shell.shown), this.attribution.values, [1, 28, 28], 10);
      const c = shell.renderRoot.querySelector('canvas.map') as HTMLCanvasElement;
      c.width = pic.width;
      c.height = pic.height;
      c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pic.rgba), pic.width, pic.height), 0, 0);
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
    const best = probs ? probs.indexOf(Math.max(...probs)) : -1;
    const about = METHODS.find(([m]) => m === this.method)!;
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
          this.reset();
        }}>
          ${METHODS.map(
            ([m, name]) => html`<option value=${m} ?selected=${m === this.method}>${name}</option>`,
          )}</select>
        <button id="explain" ?disabled=${!shell.shown || this.explaining || shell.learning}
          @click=${(e: Event) => shell.act(e, 'explain', () => this.explain())}>Why?</button>
      </div>
      <p>${about[1]} shows ${about[2]}.</p>
      <canvas class="map" width="280" height="280" ?hidden=${!this.attribution}></canvas>`;
  }
}
