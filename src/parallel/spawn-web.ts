import type { Endpoint } from 'comlink';
import type { Spawner } from './spawn.js';

/** Module Web Workers running the stage worker script at `url` (dist/stage.worker.js). */
export function webSpawner(url: string | URL): Spawner {
  return () => {
    const w = new Worker(url, { type: 'module' });
    let listener: ((reason: string) => void) | null = null;
    let ended = false;
    const end = (reason: string) => {
      if (!ended) {
        ended = true;
        listener?.(reason);
      }
    };
    w.addEventListener('error', (e) => end(`worker error: ${e.message || 'script failed to load'}`));
    return {
      endpoint: w as unknown as Endpoint,
      terminate: async () => {
        w.terminate();
        end('terminated');
      },
      onExit: (l) => {
        listener = l;
      },
    };
  };
}
