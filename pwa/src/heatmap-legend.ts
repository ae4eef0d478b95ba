import { html } from 'lit';
import * as lh from '../../src/index.js';
import type { MapScale } from '../../src/index.js';

/**
 * An attribution map over the drawing, and its legend, on one colour scale (the library's `MapScale`): signed maps
 * red for the class, blue against it; magnitudes dark → red → yellow. Each pixel is as opaque as the map is strong,
 * so where the map is weak the drawing shows through in grey.
 */

/** Draws the 28×28 map over the drawing on `canvas`, `zoom` canvas pixels per map pixel. */
export function paintMap(
  canvas: HTMLCanvasElement,
  pixels: Uint8Array,
  values: ArrayLike<number>,
  s: MapScale,
  zoom = 10,
): void {
  const pic = lh.overlayPicture(pixels, values, [1, 28, 28], zoom, s);
  canvas.width = pic.width;
  canvas.height = pic.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pic.rgba), pic.width, pic.height), 0, 0);
}

/** Two significant digits, with a sign where asked (− as the minus sign). */
const num = (v: number, sign = false) => {
  const t = Number(v.toPrecision(2)).toString();
  return (sign && v > 0 ? '+' : '') + t.replace('-', '−');
};

/**
 * The legend of a map of class `target`: a bar of the scale's colours (as they look on the pad's black background)
 * with the values at its ends, and what the colours mean.
 */
export function legend(s: MapScale, target: number, predicted: number) {
  const stops = Array.from({ length: 21 }, (_, k) => {
    const v = s.signed ? (k / 10 - 1) * s.peak : (k / 20) * s.peak;
    return `rgb(${lh.mapColour(v, s).join(',')})`;
  });
  const which =
    target === predicted ? `class ${target}, the one predicted` : `class ${target} (predicted: ${predicted})`;
  return html`<div class="legend ${s.signed ? 'signed' : 'magnitude'}">
    <p class="legend-title">Explaining ${which}</p>
    <div class="scale" role="img" aria-label=${
      s.signed
        ? `colour scale from blue, ${num(-s.peak)}, through dark, 0, to red, ${num(s.peak, true)}`
        : `colour scale from dark, 0, to bright yellow, ${num(s.peak)}`
    } style="background: linear-gradient(to right, ${stops.join(', ')})"></div>
    <div class="ends">${
      s.signed
        ? html`<span>${num(-s.peak)} against ${target}</span><span>0</span>
            <span>${num(s.peak, true)} for ${target}</span>`
        : html`<span>0</span><span>${num(s.peak)}</span>`
    }</div>
    <p class="key">${
      s.signed
        ? `Red: speaks for ${target}. Blue: speaks against ${target}. Faint or grey: little effect ` +
          '(your ink shows through in grey).'
        : `Bright: matters most for the score of ${target} (for or against: this map has no sign). ` +
          'Dark or grey: matters little (your ink shows through in grey).'
    }</p>
  </div>`;
}
