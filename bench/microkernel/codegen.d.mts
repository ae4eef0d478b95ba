// Types of codegen.mjs for the TypeScript tests.
export interface Instruction {
  addr: number;
  off: number;
  len: number;
  text: string;
}
export interface LoopStats {
  instructions: number;
  fma: number;
  loads: number;
  stack: number;
  moves: number;
  jcc32: boolean;
}
export function exportIndices(binary: Uint8Array): Map<string, number>;
export function parseListing(listing: string): Map<number, Instruction[]>;
export function hitsJcc32(instrs: Instruction[], i: number): boolean;
export function loopStats(instrs: Instruction[]): LoopStats | null;
export function analyseStudy(binary: Uint8Array): { stats?: Map<string, LoopStats | null>; error?: string };
export function analyseProduct(binary: Uint8Array): { stats?: LoopStats; error?: string };
