/**
 * Pictures of an attribution (RGBA, row-major, ready for a PNG encoder or a canvas): the input in grey, the map
 * in colour — signed maps diverge blue (negative) / white / red (positive) around 0, non-negative maps run
 * black → red → yellow — and the map over the input. Each is `scale`× the map's H×W (nearest neighbour).
 */
export interface Picture {
  width: number;
  height: number;
  rgba: Uint8Array;
}

function plane(values: ArrayLike<number>, shape: readonly number[]): { v: Float64Array; H: number; W: number } {
  const [C, H, W] = shape.length === 3 ? shape : [1, 1, values.length];
  const v = new Float64Array(H * W);
  for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) v[i] += values[c * H * W + i] / C;
  return { v, H, W };
}

function picture(
  H: number,
  W: number,
  scale: number,
  colour: (i: number) => [number, number, number, number],
): Picture {
  const width = W * scale,
    height = H * scale,
    rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const c = colour(Math.floor(y / scale) * W + Math.floor(x / scale)),
        o = (y * width + x) * 4;
      rgba[o] = c[0];
      rgba[o + 1] = c[1];
      rgba[o + 2] = c[2];
      rgba[o + 3] = c[3];
    }
  return { width, height, rgba };
}

/**
 * How a map's values become colours: signed maps diverge blue / white / red around 0, magnitudes run black → red →
 * yellow; |value| ≥ `peak` is full colour.
 */
export interface MapScale {
  signed: boolean;
  peak: number;
}

/**
 * The scale of a map: full colour at the 99th percentile of |value|, so one extreme pixel does not wash out the rest;
 * signed when asked, or (by default) when any value is negative.
 */
export function mapScale(values: ArrayLike<number>, signed?: boolean): MapScale {
  const sorted = Float64Array.from(values, Math.abs).sort();
  const peak = Math.max(1e-12, sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]);
  return { signed: signed ?? Array.prototype.some.call(values, (a: number) => a < 0), peak };
}

/** The colour of value `v` on `scale` (a magnitude scale shows negative values as 0). */
export function mapColour(v: number, scale: MapScale): [number, number, number] {
  const t = Math.max(scale.signed ? -1 : 0, Math.min(1, v / scale.peak));
  if (scale.signed)
    return t >= 0
      ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))]
      : [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255];
  return [Math.round(255 * Math.min(1, 2 * t)), Math.round(255 * Math.max(0, 2 * t - 1)), 0];
}

/** The map's colour at each pixel (on `scale`, or its own), and how strong it is (0…1). */
function colours(
  values: ArrayLike<number>,
  shape: readonly number[],
  scale?: MapScale,
): { rgb: (i: number) => [number, number, number]; strength: (i: number) => number; H: number; W: number } {
  const { v, H, W } = plane(values, shape);
  const s = scale ?? mapScale(v);
  return {
    rgb: (i) => mapColour(v[i], s),
    strength: (i) => Math.min(1, Math.max(s.signed ? Math.abs(v[i]) : v[i], 0) / s.peak),
    H,
    W,
  };
}

export function inputPicture(input: ArrayLike<number>, shape: readonly number[], scale = 10): Picture {
  const { v, H, W } = plane(input, shape);
  let lo = Infinity,
    hi = -Infinity;
  for (const a of v) {
    lo = Math.min(lo, a);
    hi = Math.max(hi, a);
  }
  return picture(H, W, scale, (i) => {
    const g = Math.round(255 * ((v[i] - lo) / (hi - lo || 1)));
    return [g, g, g, 255];
  });
}

export function heatmapPicture(
  values: ArrayLike<number>,
  shape: readonly number[],
  scale = 10,
  colourScale?: MapScale,
): Picture {
  const c = colours(values, shape, colourScale);
  return picture(c.H, c.W, scale, (i) => [...c.rgb(i), 255]);
}

/** The heatmap over the (grey) input, each pixel as opaque as the map is strong (on `colourScale`, or its own). */
export function overlayPicture(
  input: ArrayLike<number>,
  values: ArrayLike<number>,
  shape: readonly number[],
  scale = 10,
  colourScale?: MapScale,
): Picture {
  const grey = inputPicture(input, shape, 1),
    c = colours(values, shape, colourScale);
  return picture(c.H, c.W, scale, (i) => {
    const a = Math.min(1, 0.15 + 0.85 * c.strength(i)),
      [r, g, b] = c.rgb(i),
      gr = grey.rgba[i * 4] * 0.8;
    return [Math.round(a * r + (1 - a) * gr), Math.round(a * g + (1 - a) * gr), Math.round(a * b + (1 - a) * gr), 255];
  });
}
