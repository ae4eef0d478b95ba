// Types of study.mjs for the TypeScript tests.
import type { Variant } from './source.mjs';

export interface TileSpec {
  A: Float32Array;
  B: Float32Array;
  mr: number;
  nr: number;
  kc: number;
  ldc?: number;
  lda?: number;
}
export interface Runner {
  flopsPerRep: number;
  run(reps: number): unknown;
}
export interface TileRunner extends Runner {
  output(): Float32Array;
}
export interface CeilingRunner extends Runner {
  check(iters: number): [number, number];
}
export interface Study {
  tile(v: Variant, spec: TileSpec): TileRunner;
  ceiling(n: number): CeilingRunner;
}
export function compileStudy(variants?: Variant[], chains?: number[]): Promise<{ source: string; binary: Uint8Array }>;
export function createStudy(binary: Uint8Array): Study;
export function packA(v: Variant, A: Float32Array, mr: number, kc: number, lda?: number): Float32Array;
export function packB(v: Variant, B: Float32Array, nr: number, kc: number): Float32Array;
export function referenceProduct(A: Float32Array, B: Float32Array, mr: number, nr: number, kc: number): Float64Array;
export function tileError(
  out: Float32Array,
  ref: Float64Array,
  shape: { mr: number; nr: number; tileRows: number; tileCols: number; ldc: number },
): number;
export function ceilingReference(n: number, iters: number, x: number, y: number): number;
