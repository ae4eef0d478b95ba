import type { Endpoint } from 'comlink';

/** A started stage worker: its comlink endpoint, a way to stop it, and word when it ends unasked. */
export interface WorkerHandle {
  endpoint: Endpoint;
  terminate(): Promise<void>;
  /** Called once if the worker exits or fails outside a call (crash, out of memory, terminate). */
  onExit(listener: (reason: string) => void): void;
}

/** Starts the stage worker script; one adapter per runtime (Web Workers, worker_threads). */
export type Spawner = () => WorkerHandle;
