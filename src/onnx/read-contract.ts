import { fail } from '../core/errors.js';
import type { ModelContract } from './contract.js';
import { contractOf } from './metadata.js';

/**
 * The contract of a model given as its bytes (see `contractOf` for a decoded one); null when it carries none. Bytes
 * that are not an ONNX model are a DATA_INVALID error. Public: it takes bytes so that the package's types never name
 * the protobuf schema's (whose .d.ts needs `Long` from a package consumers do not have).
 */
export async function readContract(model: Uint8Array): Promise<ModelContract | null> {
  // the schema (~0.7 MB of generated code) loads only when a file is read
  const { onnx } = await import('./proto.js');
  const decoded = (() => {
    try {
      return onnx.ModelProto.decode(model);
    } catch (e) {
      return fail('DATA_INVALID', `the bytes are not an ONNX model (${(e as Error).message})`, 'pass a .onnx file');
    }
  })();
  return contractOf(decoded);
}
