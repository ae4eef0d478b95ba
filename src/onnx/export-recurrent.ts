import type { RecurrentLayer } from '../nn/layers/recurrent.js';

/** What the exporter's graph builder offers this file (structural, so that export.ts is not imported back). */
export interface RecurrentGraph<A> {
  node(opType: string, input: string[], output: string, attribute?: A[]): string;
  /** An initializer whose values are computed when the file is written (a parameter re-laid out). */
  init(name: string, values: () => Promise<Float32Array>, dims: number[]): string;
  int64(name: string, values: number[]): string;
  int(name: string, i: number): A;
  ints(name: string, ints: number[]): A;
}

/**
 * ONNX's gate blocks in our column order: ONNX's GRU stacks z, r, h where our columns are r, z, n (PyTorch's order);
 * Elman has one block.
 */
const onnxGateOrder = { rnn: [0], gru: [1, 0, 2] } as const;

/**
 * Our [rows, G·units] (x·W convention, gates side by side) as ONNX's [G·units, rows] (W·x, gates stacked), the gate
 * blocks reordered.
 */
function stackedGates(v: Float32Array, rows: number, units: number, order: readonly number[]): Float32Array {
  const G = order.length,
    out = new Float32Array(v.length);
  order.forEach((ours, g) => {
    for (let j = 0; j < units; j++)
      for (let r = 0; r < rows; r++) out[(g * units + j) * rows + r] = v[r * G * units + ours * units + j];
  });
  return out;
}

/** A bias [G·units] in ONNX's gate order. */
function biasGates(v: Float32Array | null, units: number, order: readonly number[]): Float32Array {
  const out = new Float32Array(order.length * units);
  if (v) for (const [g, ours] of order.entries()) out.set(v.subarray(ours * units, (ours + 1) * units), g * units);
  return out;
}

/**
 * A recurrent layer as ONNX's RNN (Tanh) or GRU (linear_before_reset = 1: PyTorch's reset gate after the recurrent
 * product) on [N, T, F]: the sequence goes time-major ([T, N, F], the ops' default layout), and Y [T, 1, N, units]
 * comes back as [N, T, units] or, for the last state, Y's last step [N, units].
 */
export function recurrentNodes<A>(
  g: RecurrentGraph<A>,
  layer: RecurrentLayer,
  h: string,
  out: string,
  n: (k: string) => string,
): void {
  const kind = layer.spec.type,
    order = onnxGateOrder[kind],
    H = layer.units,
    G = order.length;
  const read = async (k: string) =>
    layer.params.has(k) ? ((await layer.params.get(k)!.data()) as Float32Array) : null;
  const W = g.init(n('W'), async () => stackedGates((await read('weight'))!, layer.features, H, order), [
    1,
    G * H,
    layer.features,
  ]);
  const R = g.init(n('R'), async () => stackedGates((await read('recurrentWeight'))!, H, H, order), [1, G * H, H]);
  const B = g.init(n('B'), async () => {
    const [wb, rb] = [biasGates(await read('bias'), H, order), biasGates(await read('recurrentBias'), H, order)];
    const b = new Float32Array(2 * G * H);
    b.set(wb);
    b.set(rb, G * H);
    return b;
  }, [1, 2 * G * H]);
  const X = g.node('Transpose', [h], n('time_major'), [g.ints('perm', [1, 0, 2])]);
  const attrs = [g.int('hidden_size', H), ...(kind === 'gru' ? [g.int('linear_before_reset', 1)] : [])];
  const Y = g.node(kind === 'gru' ? 'GRU' : 'RNN', [X, W, R, B], n('Y'), attrs);
  if (layer.spec.returnSequence) {
    const s = g.node('Squeeze', [Y, g.int64(n('axes'), [1])], n('Y_squeezed'));
    g.node('Transpose', [s], out, [g.ints('perm', [1, 0, 2])]);
  } else {
    const last = g.node('Gather', [Y, g.int64(n('last'), [layer.steps - 1])], n('Y_last'), [g.int('axis', 0)]);
    g.node('Squeeze', [last, g.int64(n('axes'), [0, 1])], out);
  }
}
