// Entry point: re-exports every kernel. ABI: f32 row-major data, byte-offset
// pointers into the imported env.memory, i32 sizes; JS owns all allocation.
export { gemm, gemmWorkBytes } from "./gemm";

/** End of this module's static data; the JS allocator must start above it. */
export function heapBase(): usize {
  return __heap_base;
}
