import type { Tensor } from './tensor.js';
import { fail } from './errors.js';

/**
 * Deterministic freeing. Every tensor created inside `tidy(fn)` is disposed when fn returns, except
 * the tensors fn returns (they move to the enclosing scope) and those passed to `keep`.
 */
const scopes: Set<Tensor>[] = [];
const live = new Set<Tensor>();

export function track(t: Tensor): void {
  live.add(t);
  scopes[scopes.length - 1]?.add(t);
}

export function untrack(t: Tensor): void {
  live.delete(t);
  for (const s of scopes) s.delete(t);
}

/** Exempt a tensor from every enclosing tidy; the caller now owns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Anything that may hold tensors: tidy and dispose look through arrays and plain objects. */
export type TensorContainer = unknown;

export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    // the tensors an async function makes after its first await would escape the scope unseen
    fail('INVALID_ARGUMENT', 'tidy() was given an async function', 'tidy the synchronous parts, or dispose tensors yourself around awaits');
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  for (const t of scope) if (!kept.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of kept) if (!t.disposed) parent.add(t);
  return result;
}

function collect(v: TensorContainer, out: Set<Tensor>): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
  if (Array.isArray(v)) { for (const x of v) collect(x, out); return; }
  if ('storage' in v && 'backend' in v) { out.add(v as Tensor); return; }
  for (const x of Object.values(v)) collect(x, out);
}

/** Dispose every tensor in a container. */
export function dispose(v: TensorContainer): void {
  const s = new Set<Tensor>();
  collect(v, s);
  for (const t of s) t.dispose();
}

/** Count of tensors not yet disposed, across every backend. */
export function liveTensors(): number {
  return live.size;
}
