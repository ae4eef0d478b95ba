import type { Backend } from './backend.js';
import { fail } from '../core/errors.js';

export interface BackendOptions {
  /** wasm: which SIMD build to use. 'auto' picks relaxed SIMD when the engine validates it. */
  simd?: 'auto' | 'relaxed' | 'plain';
  /**
   * wasm: threads per kernel call (the caller's and N − 1 helpers over a shared memory). 'auto' (the default): one
   * per core, at most 4. Where shared memory is not available (browsers: not crossOriginIsolated) it runs in one
   * thread and `capabilities()` says why. Stage workers get theirs from the placement plan (one unless it says).
   */
  threads?: number | 'auto';
}
type Factory = (options: BackendOptions) => Promise<Backend>;

const factories = new Map<string, Factory>();
let priority: string[] = ['webgpu', 'wasm', 'js'];
let current: Backend | null = null;
const failures = new Map<string, string>();

/**
 * Backends register themselves by name; choosing one is data (the priority list), not branches. A name registers
 * once: a second registration is an error, not a silent replacement.
 */
export function registerBackend(name: string, factory: Factory): void {
  if (factories.has(name)) {
    fail(
      'INVALID_ARGUMENT',
      `backend '${name}' is already registered`,
      'register each backend once, under a name no other backend uses (is its module loaded twice?)',
    );
  }
  factories.set(name, factory);
}

export function registeredBackends(): string[] {
  return [...factories.keys()];
}

export function setBackendPriority(names: readonly string[]): void {
  priority = [...names];
}

/** A fresh backend instance, not made the default (each worker stage owns one). */
export async function createBackend(name: string, options: BackendOptions = {}): Promise<Backend> {
  const f = factories.get(name);
  if (!f) {
    fail(
      'BACKEND_UNAVAILABLE',
      `backend '${name}' is not registered`,
      `choose one of: ${registeredBackends().join(', ')}`,
    );
  }
  return f(options);
}

/** Initialise the first backend of the priority list that works; remember why the others did not. */
export async function ready(options: BackendOptions = {}): Promise<Backend> {
  if (current) return current;
  for (const name of priority) {
    if (!factories.has(name)) {
      failures.set(name, 'not registered in this build');
      continue;
    }
    try {
      current = await createBackend(name, options);
      return current;
    } catch (e) {
      failures.set(name, e instanceof Error ? e.message : String(e));
    }
  }
  fail(
    'BACKEND_UNAVAILABLE',
    `no backend could start (tried ${priority.join(', ')})`,
    [...failures].map(([n, why]) => `${n}: ${why}`).join('; '),
  );
}

/** Make a named backend the default for new tensors. */
export async function setBackend(name: string, options: BackendOptions = {}): Promise<Backend> {
  current = await createBackend(name, options);
  return current;
}

export function getBackend(): Backend {
  if (!current) {
    fail('BACKEND_UNAVAILABLE', 'no backend is selected yet', 'await ready() or setBackend(name) first');
  }
  return current;
}

export function backendFailures(): ReadonlyMap<string, string> {
  return failures;
}
