/**
 * A drawing (white ink on black, any size) as an MNIST-like 28×28 image: the ink's bounding box scaled so its
 * longer side is 20 pixels, then placed so its centre of mass sits at the centre — how MNIST's digits were made —
 * as near as the frame allows: the box never leaves the 28×28 frame, so no ink is cropped.
 */
export function toMnist(source: HTMLCanvasElement): Uint8Array | null {
  const W = source.width,
    H = source.height;
  const ink = source.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, W, H).data;
  let x0 = W,
    y0 = H,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      if (ink[(y * W + x) * 4] > 32) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  if (x1 < 0) return null; // nothing drawn
  const bw = x1 - x0 + 1,
    bh = y1 - y0 + 1,
    s = 20 / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * s)),
    h = Math.max(1, Math.round(bh * s));
  const small = document.createElement('canvas');
  small.width = w;
  small.height = h;
  const sc = small.getContext('2d', { willReadFrequently: true })!;
  sc.imageSmoothingEnabled = true;
  sc.imageSmoothingQuality = 'high';
  sc.drawImage(source, x0, y0, bw, bh, 0, 0, w, h);
  const px = sc.getImageData(0, 0, w, h).data;
  let m = 0,
    mx = 0,
    my = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = px[(y * w + x) * 4];
      m += v;
      mx += v * x;
      my += v * y;
    }
  // the shift that puts the centre of mass at (14, 14), clamped so that the whole box stays inside the frame: a digit
  // whose ink is heavy at one end (the bar of a 7 over its long tail) would otherwise lose its other end
  const ox = clampShift(Math.round(14 - (m ? mx / m : w / 2)), w),
    oy = clampShift(Math.round(14 - (m ? my / m : h / 2)), h);
  const out = new Uint8Array(784);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const tx = x + ox,
        ty = y + oy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] = px[(y * w + x) * 4];
    }
  return out;
}

/** A shift of a box `size` pixels long, moved as little as needed to keep it inside the 28-pixel frame. */
const clampShift = (shift: number, size: number) => Math.max(0, Math.min(28 - size, shift));
