import { fail } from './errors.js';

/**
 * A tensor as a scope sees it: only what freeing needs. tensor.ts calls track/untrack, so this file
 * names no Tensor (importing it back would make a circle).
 */
export interface Tracked {
  readonly disposed: boolean;
  dispose(): void;
}

/**
 * Deterministic freeing. Every tensor created inside `tidy(fn)` is disposed when fn returns, except
 * the tensors fn returns (they move to the enclosing scope) and those passed to `keep`.
 */
const scopes: Set<Tracked>[] = [];
const live = new Set<Tracked>();
/** Everything ever tracked, disposed or not: how a container's tensors are told from its other objects. */
const known = new WeakSet<Tracked>();

export function track(t: Tracked): void {
  known.add(t);
  live.add(t);
  scopes[scopes.length - 1]?.add(t);
}

export function untrack(t: Tracked): void {
  live.delete(t);
  for (const s of scopes) s.delete(t);
}

/** Exempt a tensor from every enclosing tidy; the caller now owns it. */
export function keep<T extends Tracked>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Anything that may hold tensors: tidy and dispose look through arrays and plain objects. */
export type TensorContainer = unknown;

export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tracked>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    // the tensors an async function makes after its first await would escape the scope unseen
    fail(
      'INVALID_ARGUMENT',
      'tidy() was given an async function',
      'tidy the synchronous parts, or dispose tensors yourself around awaits',
    );
  }
  const kept = new Set<Tracked>();
  collect(result, kept);
  for (const t of scope) if (!kept.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of kept) if (!t.disposed) parent.add(t);
  return result;
}

const isTensor = (v: object): v is Tracked => known.has(v as Tracked);

function collect(v: TensorContainer, out: Set<Tracked>): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
  if (Array.isArray(v)) {
    for (const x of v) collect(x, out);
    return;
  }
  if (isTensor(v)) {
    out.add(v);
    return;
  }
  for (const x of Object.values(v)) collect(x, out);
}

/** Dispose every tensor in a container. */
export function dispose(v: TensorContainer): void {
  const s = new Set<Tracked>();
  collect(v, s);
  for (const t of s) t.dispose();
}

/** Count of tensors not yet disposed, across every backend. */
export function liveTensors(): number {
  return live.size;
}
