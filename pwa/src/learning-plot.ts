import { LitElement, css, html, svg } from 'lit';
import type { LearnPoint } from './personalizer.js';

/**
 * The learning curve as SVG: loss per step (line, left scale) and accuracy on your samples kept aside per epoch
 * (dots, right).
 */
export class LearningPlot extends LitElement {
  static override properties = { points: { attribute: false } };
  declare points: LearnPoint[];
  static override styles = css`
    svg {
      width: 100%; height: auto; background: var(--bg, #fff); border: 1px solid var(--line, #ddd); border-radius: 8px;
    }
    .loss { fill: none; stroke: var(--accent, #1f6feb); stroke-width: 2; }
    .acc { fill: var(--bad, #d1242f); }
    text { font: 11px system-ui, sans-serif; fill: var(--muted, #555); }
  `;

  constructor() {
    super();
    this.points = [];
  }

  override render() {
    const W = 320,
      H = 160,
      pad = 28;
    const steps = Math.max(1, ...this.points.map((p) => p.step));
    const losses = this.points.filter((p) => Number.isFinite(p.loss));
    const maxLoss = Math.max(1e-6, ...losses.map((p) => p.loss));
    const x = (s: number) => pad + ((W - 2 * pad) * s) / steps;
    const yl = (l: number) => H - pad - ((H - 2 * pad) * l) / maxLoss;
    const ya = (a: number) => H - pad - (H - 2 * pad) * a;
    const line = losses.map((p) => `${x(p.step).toFixed(1)},${yl(p.loss).toFixed(1)}`).join(' ');
    return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="learning curve">
      ${svg`<line x1=${pad} y1=${H - pad} x2=${W - pad} y2=${H - pad} stroke="#999" />
      <text x=${pad} y=${pad - 10}>blue: loss (top = ${maxLoss.toFixed(2)})</text>
      <text x=${pad} y=${H - 8}>red: accuracy on your digits kept aside (top = 100%)</text>
      <text x=${W - pad} y=${pad - 10} text-anchor="end">step ${steps}</text>
      <polyline class="loss" points=${line} />
      ${this.points
        .filter((p) => p.accuracy !== undefined)
        .map((p) => svg`<circle class="acc" cx=${x(p.step)} cy=${ya(p.accuracy!)} r="4" />`)}`}
    </svg>`;
  }
}
customElements.define('lh-learning-plot', LearningPlot);
