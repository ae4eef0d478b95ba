import { LitElement, css, html } from 'lit';
import { toMnist } from './digits.js';

/** A square drawing pad (pointer events: mouse, pen or a finger); `digit()` gives the drawing as MNIST pixels. */
export class DrawPad extends LitElement {
  static override styles = css`
    :host { display: block; }
    canvas {
      width: 100%; aspect-ratio: 1; touch-action: none; background: #000; border-radius: 12px; display: block;
      border: 1px solid var(--line, #000);
      cursor: crosshair;
    }
  `;
  private canvas!: HTMLCanvasElement;
  private last: [number, number] | null = null;
  /** The pad as it was before each stroke, oldest first: `undo` goes back one. */
  private history: ImageData[] = [];

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
    this.history.push(this.context().getImageData(0, 0, this.canvas.width, this.canvas.height));
    if (this.history.length > 50) this.history.shift();
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

  private context(): CanvasRenderingContext2D {
    return this.canvas.getContext('2d', { willReadFrequently: true })!;
  }

  private stroke(p: [number, number]): void {
    const g = this.context();
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
    const g = this.context();
    g.fillStyle = '#000';
    g.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.history = [];
  }

  /** True when there is a stroke to undo. */
  get canUndo(): boolean {
    return this.history.length > 0;
  }

  /** Takes back the last stroke (and says so with a `stroke` event, as a new stroke does). */
  undo(): void {
    const before = this.history.pop();
    if (!before) return;
    this.context().putImageData(before, 0, 0);
    this.dispatchEvent(new CustomEvent('stroke', { bubbles: true, composed: true }));
  }

  /** The drawing as 28×28 MNIST-like pixels, or null when the pad is empty. */
  digit(): Uint8Array | null {
    return toMnist(this.canvas);
  }
}
customElements.define('lh-draw-pad', DrawPad);
