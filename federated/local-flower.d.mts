export const appDir: string;
export function freePort(): Promise<number>;
export interface LocalFlower {
  server: string;
  home: string;
  superlinkLog(): string;
  run(config: Record<string, string | number | boolean>): string;
  /** The ServerApp's log of a run so far (`flwr log RUN_ID --show`). */
  runLog(runId: string | bigint): string;
  /** Kill the SuperLink (and its runs), wait `downMs`, start a new one on the same port and FLWR_HOME. */
  restart(o?: { downMs?: number }): Promise<void>;
  stop(): void;
}
export function startFlower(o?: { log?: (s: string) => void }): Promise<LocalFlower>;
export function writeArrays(dir: string, arrays: [string, Uint8Array][]): void;
export function readArrays(dir: string): [string, Uint8Array][];
