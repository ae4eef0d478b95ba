export const appDir: string;
export function freePort(): Promise<number>;
export interface LocalFlower {
  server: string;
  home: string;
  superlinkLog(): string;
  run(config: Record<string, string | number | boolean>): string;
  stop(): void;
}
export function startFlower(o?: { log?: (s: string) => void }): Promise<LocalFlower>;
export function writeArrays(dir: string, arrays: [string, Uint8Array][]): void;
export function readArrays(dir: string): [string, Uint8Array][];
