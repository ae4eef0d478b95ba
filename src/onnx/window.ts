import { fmtDims, importError as err } from './import-error.js';
import type { NodeView } from './node-view.js';

/** A 2-D window op's geometry: strides, dilations, pads (top, left, bottom, right) and the output size. */
export interface Window {
  strides: [number, number];
  pad: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  out: number[];
}

/**
 * Strides, dilations, pads (before and after) and the output size of a 2-D window op, per the
 * Conv/MaxPool/AveragePool spec: strides default 1 and dilations default 1 along each spatial axis, pads
 * default 0, auto_pad default NOTSET; SAME_UPPER/SAME_LOWER pad so that out = ceil(in / stride) with total pad
 * (out − 1)·stride + K − in, K = dilation·(kernel − 1) + 1 the span of the taps (odd totals put the extra pixel
 * at the end / the beginning), VALID pads nothing. Dilations other than 1 are read for Conv (`dilated`) and
 * refused for pools.
 */
export function windowOf(v: NodeView, taps: number[], hw: [number, number], dilated = false): Window {
  const strides = v.ints('strides', [1, 1]);
  if (strides.length !== 2 || strides.some((s) => !(Number.isSafeInteger(s) && s >= 1)))
    throw v.refuse('strides', `= ${fmtDims(strides)} is not two positive integers`);
  const dil = v.ints('dilations', [1, 1]);
  if (dil.length !== 2 || dil.some((d) => !(Number.isSafeInteger(d) && d >= 1)))
    throw v.refuse('dilations', `= ${fmtDims(dil)} is not two positive integers`);
  if (!dilated && dil.some((d) => d !== 1))
    throw v.refuse('dilations', `= ${fmtDims(dil)}: layerhive's pooling windows are not dilated`);
  // the window a dilated kernel spans: d·(k − 1) + 1 pixels (what SAME pads for and the output size sees)
  const kernel = taps.map((k, i) => dil[i] * (k - 1) + 1);
  const autoPad = v.str('auto_pad', 'NOTSET');
  let pads = v.ints('pads', [0, 0, 0, 0]);
  if (pads.length !== 4 || pads.some((p) => !(Number.isSafeInteger(p) && p >= 0)))
    throw v.refuse('pads', `= ${fmtDims(pads)} is not four non-negative integers`);
  if (autoPad !== 'NOTSET' && pads.some((p) => p !== 0))
    throw v.refuse('auto_pad', `= ${autoPad} is set together with pads (the spec forbids both)`);
  if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // onnxruntime refuses this pairing ("Dilation not supported for AutoPadType::SAME_UPPER or SAME_LOWER"):
    // with no runtime to agree with, the padding is not guessed
    if (dil.some((d) => d !== 1))
      throw v.refuse(
        'auto_pad',
        `= ${autoPad} with dilations ${fmtDims(dil)}, which onnxruntime refuses too`,
        'export with explicit pads',
      );
    const total = hw.map((d, i) => (Math.ceil(d / strides[i]) - 1) * strides[i] + kernel[i] - d);
    if (total.some((t) => t < 0))
      throw v.refuse('auto_pad', `= ${autoPad} asks for a negative pad ${fmtDims(total)} (stride above the kernel)`);
    const lo = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [lo[0], lo[1], total[0] - lo[0], total[1] - lo[1]];
  } else if (autoPad !== 'NOTSET') throw v.refuse('auto_pad', `= '${autoPad}' is not one the spec defines`);
  const out = hw.map((d, i) => Math.floor((d + pads[i] + pads[i + 2] - kernel[i]) / strides[i]) + 1);
  if (out.some((o) => o < 1))
    throw err(`${v.at}: a ${fmtDims(kernel)} window does not fit the ${fmtDims(hw)} input`, 'the file is damaged');
  return {
    strides: [strides[0], strides[1]],
    pad: [pads[0], pads[1]],
    pads: [pads[0], pads[1], pads[2], pads[3]],
    dilation: [dil[0], dil[1]],
    out,
  };
}
