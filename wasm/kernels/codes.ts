// Op codes the kernels take as arguments: the one definition. wasm/build.mjs reads every `export const enum`
// here and writes it into src/backend/wasm/binaries.generated.ts as a TypeScript object (enum BinaryCode →
// `binaryCodes`), so the glue passes exactly these numbers.

/** The `op` argument of binary / binaryScalar / scalarBinary / binaryRow / binaryMid. */
export const enum BinaryCode {
  add = 0,
  sub = 1,
  mul = 2,
  div = 3,
  max = 4,
  min = 5,
}
