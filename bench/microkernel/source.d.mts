// Types of source.mjs for the TypeScript tests.
export interface Variant {
  name: string;
  mr: number;
  nr: number;
  a: 'bcast' | 'rows';
  unroll: number;
  why: string;
  /** Padding counters in the k loop (code layout); 0 or absent = as written. */
  pad?: number;
  /** The variant's name without the layout suffix (studyVariants). */
  shape?: string;
}
export const SIMD_REGISTERS: number;
export const VARIANTS: Variant[];
export const LAYOUTS: number[];
export const CEILING_CHAINS: number[];
export function studyVariants(variants?: Variant[], layouts?: number[]): Variant[];
export function registersNeeded(v: Variant): number;
export function aBytes(v: Variant, kc: number): number;
export function bBytes(v: Variant, kc: number): number;
export function kernelExport(v: Variant): string;
export function runExport(v: Variant): string;
export function ceilingExport(n: number): string;
export function kernelSource(v: Variant): string;
export function ceilingSource(n: number): string;
export function studySource(variants?: Variant[], chains?: number[]): string;
