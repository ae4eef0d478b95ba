export { captureCheckpoint, restoreRule, copyWeights, type Checkpoint } from './checkpoint.js';
export { fetchCheckpoint } from './url-checkpoint.js';
export {
  encodeCheckpoint,
  decodeCheckpoint,
  splitRecords,
  type Manifest,
  type RecordEntry,
  type Encoding,
  type QuantizeOptions,
} from './codec.js';
export { quantize, dequantize, DEFAULT_BLOCK, type Quantized } from './quantize.js';
export {
  VersionedStore,
  type CheckpointStore,
  type VersionInfo,
  type SaveOptions,
  type LoadOptions,
  type Loaded,
} from './store.js';
export { IdbCheckpointStore, storageEstimate, requestPersistence } from './idb-store.js';
export { sha256 } from './sha256.js';
