import type { LayerSpec } from '../nn/layer.js';
import { importError as err } from './import-error.js';
import type { LayerUnit, MergeUnit, Unit } from './graph-state.js';

/** Layers in a row, with the units they came from (their weights are named once the nesting is known). */
type Built = { spec: LayerSpec; node: string; unit?: LayerUnit; branches?: Built[][]; nested?: boolean };

/**
 * Concat(e1, e2, …, ek) as nested two-way concats — Concat(e1, Concat(e2, … Concat(ek−1, ek))) ('right') or
 * Concat(Concat(… Concat(e1, e2) …), ek) ('left'): the same channels in the same order. A chain of inputs each
 * computed from the one before (YOLO's SPPF: Concat(x, p(x), p(p(x)), …)) then becomes forks that each join one step
 * further (right), and Concat(a, h(a), g(x)) a fork within a fork (left). The inner joins carry `nested` and are
 * spliced back into their parent where a branch is nothing but one of them (`flatten`), so a plain n-way concat
 * stays one branches layer.
 */
function binaryConcats(units: readonly Unit[], side: 'right' | 'left'): (Unit & { nested?: boolean })[] {
  return units.flatMap((u) => {
    if (u.kind !== 'merge' || u.merge !== 'concat' || u.inputs.length < 3) return [u];
    const e = u.inputs,
      k = e.length;
    const inner = (j: number) => `${u.output}::concat${j}`;
    const out: (MergeUnit & { nested?: boolean })[] = [];
    // right: inner j = Concat(e_j, inner j+1); left: inner j = Concat(inner j−1, e_j); the outermost writes the output
    const steps =
      side === 'right'
        ? Array.from({ length: k - 1 }, (_, i) => k - 2 - i).map((j) => ({
            inputs: [e[j], j === k - 2 ? e[k - 1] : inner(j + 1)],
            output: j === 0 ? u.output : inner(j),
          }))
        : Array.from({ length: k - 1 }, (_, i) => i + 1).map((j) => ({
            inputs: [j === 1 ? e[0] : inner(j - 1), e[j]],
            output: j === k - 1 ? u.output : inner(j),
          }));
    for (const s of steps) out.push({ ...u, ...s, ...(s.output !== u.output ? { nested: true } : {}) });
    return out;
  });
}

/** A concat branch that is one nested concat is that concat's branches (see `binaryConcats`). */
function flatten(b: Built): Built {
  if (b.spec.type !== 'branches' || b.spec.merge !== 'concat' || !b.branches) return b;
  return {
    ...b,
    branches: b.branches.flatMap((br) => (br.length === 1 && br[0].nested ? br[0].branches! : [br])),
  };
}

/**
 * The graph's units as layers in a row, each fork-and-join a `branches` layer: a series-parallel decomposition of
 * the DAG from its input to its output. At a value read by several units, the join is their nearest common
 * post-dominator (the first unit every path from them to the output passes), which must be a merge (Add, Mul,
 * Concat) whose inputs each come from one of those units alone, or be the forked value itself (the skip of a
 * residual block: an empty branch). A graph that is not series-parallel this way is refused, naming the node.
 * Units that do not lead to the output are left out (`unused`).
 */
export function seriesParallel(
  graphUnits: readonly Unit[],
  input: string,
  output: string,
): { layers: Built[]; unused: Unit[] } {
  try {
    return decompose(graphUnits, input, output, 'right');
  } catch (e) {
    // an n-way concat may nest the other way round (see binaryConcats); the first refusal is the one reported
    try {
      return decompose(graphUnits, input, output, 'left');
    } catch {
      throw e;
    }
  }
}

function decompose(
  graphUnits: readonly Unit[],
  input: string,
  output: string,
  side: 'right' | 'left',
): { layers: Built[]; unused: Unit[] } {
  const units = binaryConcats(graphUnits, side);
  const producer = new Map<string, number>();
  for (const [i, u] of units.entries()) producer.set(u.output, i);
  const ins = (u: Unit) => (u.kind === 'layer' ? [u.input] : u.inputs);
  // units that reach the output, from the back: only they count as consumers
  const live = new Set<number>();
  const mark = (name: string) => {
    const i = producer.get(name);
    if (i === undefined || live.has(i)) return;
    live.add(i);
    for (const x of ins(units[i])) mark(x);
  };
  mark(output);
  const consumers = new Map<string, number[]>();
  units.forEach((u, i) => {
    if (!live.has(i)) return;
    for (const x of new Set(ins(u))) consumers.set(x, [...(consumers.get(x) ?? []), i]);
  });
  // post-dominators: pdom(u) = {u} ∪ ⋂ pdom(c) over the units reading u's output (the output's writer: {u})
  const pdom = new Map<number, Set<number>>();
  for (let i = units.length - 1; i >= 0; i--) {
    if (!live.has(i)) continue;
    const cs = consumers.get(units[i].output) ?? [];
    const s = units[i].output === output ? [] : intersect(cs.map((c) => pdom.get(c)!));
    pdom.set(i, new Set([i, ...s]));
  }
  /** Whether unit `i`'s output leads to the value `name`. */
  const reachMemo = new Map<string, boolean>();
  const reaches = (i: number, name: string): boolean => {
    const key = `${i}|${name}`;
    let r = reachMemo.get(key);
    if (r === undefined) {
      r = units[i].output === name || (consumers.get(units[i].output) ?? []).some((c) => reaches(c, name));
      reachMemo.set(key, r);
    }
    return r;
  };
  const nodeName = (i: number) => `node '${units[i].node}'`;
  const notSP = (i: number, why: string) =>
    err(
      `the graph is not a series of blocks that fork and join: at ${nodeName(i)} ${why}`,
      'layerhive imports graphs whose branches rejoin by Add, Mul or Concat before any other branch is joined',
    );

  /** The layers from the value `cur`, following the units `via`, up to the value `end`. */
  const chain = (cur: string, via: number[], end: string): Built[] => {
    const out: Built[] = [];
    for (;;) {
      if (cur === end) return out;
      if (via.length === 0) throw err(`the value '${cur}' does not lead to '${end}'`, 'the file is damaged');
      const first = units[via[0]];
      if (via.length === 1 && first.kind === 'layer') {
        if (!reaches(via[0], end)) throw notSP(via[0], `the value '${cur}' leaves its branch`);
        out.push({ spec: first.spec, node: first.node, unit: first });
        cur = first.output;
        via = consumers.get(cur) ?? [];
        continue;
      }
      // a fork (or a merge of the value with itself): join at the nearest common post-dominator
      const m = Math.min(...intersect(via.map((u) => pdom.get(u)!)));
      if (!Number.isFinite(m)) throw notSP(via[0], `the branches from '${cur}' never join`);
      const merge = units[m];
      if (merge.kind !== 'merge')
        throw notSP(m, `the branches from '${cur}' join at a node that is not Add, Mul or Concat`);
      if (merge.output !== end && !reaches(m, end))
        throw notSP(m, `the branches from '${cur}' join outside their branch`);
      // the merge may read the forked value itself: that input is an empty branch (a residual block's skip)
      const forks = via.filter((u) => u !== m);
      const parts = merge.inputs.map((e) => ({ e, via: e === cur ? [] : forks.filter((u) => reaches(u, e)) }));
      const taken = parts.flatMap((p) => p.via);
      if (
        taken.length !== new Set(taken).size ||
        forks.some((u) => !taken.includes(u)) ||
        parts.some((p) => p.e !== cur && !p.via.length)
      )
        throw notSP(m, `its inputs do not each come from one branch of '${cur}'`);
      out.push(
        flatten({
          spec: { type: 'branches', merge: (merge as MergeUnit).merge, branches: [] },
          node: merge.node,
          branches: parts.map((p) => (p.e === cur ? [] : chain(cur, p.via, p.e))),
          ...((merge as { nested?: boolean }).nested ? { nested: true } : {}),
        }),
      );
      cur = merge.output;
      via = consumers.get(cur) ?? [];
    }
  };
  const layers = chain(input, consumers.get(input) ?? [], output);
  return { layers, unused: graphUnits.filter((u) => !live.has(producer.get(u.output) ?? -1)) };
}

/** The members of every set (none for no sets). */
function intersect(sets: Set<number>[]): number[] {
  if (!sets.length) return [];
  return [...sets[0]].filter((x) => sets.every((s) => s.has(x)));
}

/**
 * The spec of the built layers, and their weights named as Sequential names them: `<i>.<name>` at the top,
 * `<i>.<branch>.<j>.<name>` inside a branches layer.
 */
export function specAndWeights(layers: Built[]): {
  specs: LayerSpec[];
  params: Record<string, Float32Array>;
  buffers: Record<string, Float32Array>;
} {
  const params: Record<string, Float32Array> = {},
    buffers: Record<string, Float32Array> = {};
  // each layer keeps its node's name (CAM layers and layer attributions are addressed by it); a nameless node, or
  // a name given twice, is left to the type-and-count names
  const names = new Set<string>();
  const named = (node: string) => {
    if (node.startsWith('#') || names.has(node)) return {};
    names.add(node);
    return { name: node };
  };
  const walk = (row: Built[], prefix: string): LayerSpec[] =>
    row.map((b, i) => {
      const at = `${prefix}${i}.`;
      if (b.branches)
        return {
          ...b.spec,
          ...named(b.node),
          branches: b.branches.map((br, k) => walk(br, `${at}${k}.`)),
        } as LayerSpec;
      for (const [k, v] of Object.entries(b.unit?.params ?? {})) params[`${at}${k}`] = v;
      for (const [k, v] of Object.entries(b.unit?.buffers ?? {})) buffers[`${at}${k}`] = v;
      return { ...b.spec, ...named(b.node) };
    });
  return { specs: walk(layers, ''), params, buffers };
}
