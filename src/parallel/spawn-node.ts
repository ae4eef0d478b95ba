import { Worker } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Spawner } from './spawn.js';

/** worker_threads workers running the stage worker script at `url` (dist/stage.worker.js). */
export function nodeSpawner(url: string | URL): Spawner {
  return () => {
    const w = new Worker(url);
    let listener: ((reason: string) => void) | null = null;
    let ended = false;
    const end = (reason: string) => {
      if (!ended) {
        ended = true;
        listener?.(reason);
      }
    };
    w.on('error', (e) => end(`worker error: ${e.message}`));
    w.on('exit', (code) => end(`worker exited with code ${code}`));
    return {
      endpoint: nodeEndpoint(w),
      terminate: async () => {
        await w.terminate();
      },
      onExit: (l) => {
        listener = l;
      },
    };
  };
}
