/**
 * Test helpers for hung stage workers: a spawner that keeps each worker it starts, can cut one off from the
 * coordinator (a stage that stops answering) and sees whether its thread has exited; and bit-for-bit weight checks.
 */
import { expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { LearningRule } from '../../../src/index.js';
import type { Spawner } from '../../../src/parallel/spawn.js';

export const stageWorkerUrl = new URL('../../../dist/stage.worker.js', import.meta.url);

export interface Tracked {
  worker: Worker;
  exited: boolean;
  /** From now on nothing passes between this worker and the coordinator, either way. */
  silence(): void;
}

/**
 * Starts workers running `url` (or the code `evalCode`) like nodeSpawner does, keeping each one so that a test can
 * silence it and see whether its thread has exited.
 */
export function trackingSpawner(url: URL | null, evalCode?: string): { spawn: Spawner; workers: Tracked[] } {
  const workers: Tracked[] = [];
  const spawn: Spawner = () => {
    const worker = url ? new Worker(url) : new Worker(evalCode!, { eval: true });
    const inner = nodeEndpoint(worker);
    let silent = false,
      listener: ((reason: string) => void) | null = null,
      ended = false;
    const t: Tracked = { worker, exited: false, silence: () => (silent = true) };
    const end = (reason: string) => {
      if (!ended) {
        ended = true;
        listener?.(reason);
      }
    };
    worker.on('error', (e) => end(`worker error: ${e.message}`));
    worker.on('exit', (code) => {
      t.exited = true;
      end(`worker exited with code ${code}`);
    });
    workers.push(t);
    type Listener = Parameters<Endpoint['addEventListener']>[1];
    const wrapped = new Map<Listener, Listener>();
    const endpoint: Endpoint = {
      postMessage: (m: unknown, transfer?: Transferable[]) => {
        if (!silent) inner.postMessage(m, transfer);
      },
      addEventListener: (type: string, l: Listener) => {
        const w = ((ev: MessageEvent) => {
          if (silent) return;
          if (typeof l === 'function') l(ev);
          else l.handleEvent(ev);
        }) as Listener;
        wrapped.set(l, w);
        inner.addEventListener(type, w);
      },
      removeEventListener: (type: string, l: Listener) => {
        const w = wrapped.get(l);
        if (w) inner.removeEventListener(type, w);
        wrapped.delete(l);
      },
    };
    return {
      endpoint,
      terminate: async () => {
        await worker.terminate();
      },
      onExit: (l) => {
        listener = l;
      },
    };
  };
  return { spawn, workers };
}

export const weights = (r: LearningRule) =>
  new Map([...r.params(), ...r.buffers()].map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));

export function expectSameBits(a: Map<string, Float32Array>, b: Map<string, Float32Array>) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, v] of a)
    expect(Buffer.from(v.buffer).equals(Buffer.from(b.get(k)!.buffer)), `${k} bit-identical`).toBe(true);
}
