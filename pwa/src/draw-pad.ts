import { LitElement, css, html } from 'lit';
import { toMnist } from './digits.js';

/** A square drawing pad (pointer events: mouse, pen or a finger); `digit()` gives the drawing as MNIST pixels. */
export class DrawPad extends LitElement {
  static override styles = css`
    :host { display: block; }
    canvas {
      width: 100%; aspect-ratio: 1; touch-action: none; background: #000; border-radius: 12px; display: block;
      cursor: crosshair;
    }
  `;
  private canvas!: HTMLCanvasElement;
  private last: [number, number] | null = null;

  override firstUpdated(): void {
    this.canvas = this.renderRoot.querySelector('canvas')!;
    this.clear();
  }

  override render() {
    return html`<canvas width="280" height="280" aria-label="drawing pad: draw one digit"
      @pointerdown=${this.down} @pointermove=${this.move} @pointerup=${this.up} @pointercancel=${this.up}
      @pointerleave=${this.up}></canvas>`;
  }

  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) / r.width) * this.canvas.width,
      ((e.clientY - r.top) / r.height) * this.canvas.height,
    ];
  }

  private down = (e: PointerEvent) => {
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this.at(e);
    this.stroke(this.last);
  };
  private move = (e: PointerEvent) => {
    if (this.last) this.stroke(this.at(e));
  };
  private up = () => {
    if (!this.last) return;
    this.last = null;
    this.dispatchEvent(new CustomEvent('stroke', { bubbles: true, composed: true }));
  };

  private stroke(p: [number, number]): void {
    const g = this.canvas.getContext('2d')!;
    g.strokeStyle = '#fff';
    g.lineWidth = 20;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.beginPath();
    g.moveTo(...this.last!);
    g.lineTo(...p);
    g.stroke();
    this.last = p;
  }

  clear(): void {
    const g = this.canvas.getContext('2d')!;
    g.fillStyle = '#000';
    g.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The drawing as 28×28 MNIST-like pixels, or null when the pad is empty. */
  digit(): Uint8Array | null {
    return toMnist(this.canvas);
  }
}
customElements.define('lh-draw-pad', DrawPad);
