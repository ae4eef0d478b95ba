import type { onnx as OnnxNamespace } from 'onnx-proto';

type Node = OnnxNamespace.INodeProto;

/** A GELU written out as arithmetic: the nodes it spans, the last one (whose output is GELU's), and its input. */
export interface GeluPattern {
  nodes: Set<number>;
  last: number;
  input: string;
}

/**
 * The exact GELU as exporters write it before opset 20 has a Gelu op — x·½·(1 + erf(x / √2)), PyTorch's
 * `Div(x, √2) → Erf → Add(·, 1) → Mul(x, ·) → Mul(·, 0.5)` and the orders of the products that other exporters
 * use — found around each Erf node, every intermediate read once. `scalar` gives a constant's value by name.
 */
export function findGeluPatterns(nodes: readonly Node[], scalar: (name: string) => number | undefined): GeluPattern[] {
  const producer = new Map<string, number>(),
    consumers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) producer.set(o, i);
    for (const x of n.input ?? []) consumers.set(x, [...(consumers.get(x) ?? []), i]);
  });
  const near = (v: number | undefined, want: number) => v !== undefined && Math.abs(v - want) <= 1e-4 * Math.abs(want);
  /** The node's other input when it is `op` of `known` and one more input; the other input. */
  const other = (i: number | undefined, op: string, known: string) => {
    const n = i === undefined ? undefined : nodes[i];
    if (n?.opType !== op || n.domain || n.input?.length !== 2) return undefined;
    const [a, b] = n.input;
    return a === known ? b : b === known ? a : undefined;
  };
  const only = (name: string) => {
    const c = consumers.get(name) ?? [];
    return c.length === 1 ? c[0] : undefined;
  };
  const out = (i: number) => nodes[i].output?.[0] ?? '';
  const found: GeluPattern[] = [];
  nodes.forEach((erf, e) => {
    if (erf.opType !== 'Erf' || erf.domain || erf.input?.length !== 1) return;
    const d = producer.get(erf.input[0]);
    if (d === undefined || only(out(d)) !== e) return;
    const dn = nodes[d];
    // x / √2, or x · (1/√2) with the constant on either side
    const [p, q] = dn.input ?? [];
    const [x, k] = dn.opType === 'Mul' && scalar(p) !== undefined && scalar(q) === undefined ? [q, p] : [p, q];
    if (
      !((dn.opType === 'Div' && near(scalar(k), Math.SQRT2)) || (dn.opType === 'Mul' && near(scalar(k), Math.SQRT1_2)))
    )
      return;
    const a = only(out(e));
    const one = other(a, 'Add', out(e));
    if (a === undefined || one === undefined || !near(scalar(one), 1)) return;
    const m1 = only(out(a));
    if (m1 === undefined) return;
    const f1 = other(m1, 'Mul', out(a));
    if (f1 === x) {
      // x·(1 + erf) then ·½
      const m2 = only(out(m1));
      const half = other(m2, 'Mul', out(m1));
      if (m2 !== undefined && half !== undefined && near(scalar(half), 0.5))
        found.push({ nodes: new Set([d, e, a, m1, m2]), last: m2, input: x });
    } else if (f1 !== undefined && near(scalar(f1), 0.5)) {
      // (1 + erf)·½ then ·x
      const m2 = only(out(m1));
      if (m2 !== undefined && other(m2, 'Mul', out(m1)) === x)
        found.push({ nodes: new Set([d, e, a, m1, m2]), last: m2, input: x });
    } else if (f1 !== undefined) {
      // (x·½)·(1 + erf)
      const h = producer.get(f1);
      if (h !== undefined && only(f1) === m1 && near(scalar(other(h, 'Mul', x) ?? ''), 0.5))
        found.push({ nodes: new Set([d, e, a, h, m1]), last: m1, input: x });
    }
  });
  return found;
}
