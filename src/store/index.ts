export { captureCheckpoint, restoreRule, type Checkpoint } from './checkpoint.js';
export { encodeCheckpoint, decodeCheckpoint, type Manifest, type RecordEntry, type Encoding, type QuantizeOptions } from './codec.js';
export { quantize, dequantize, DEFAULT_BLOCK, type Quantized } from './quantize.js';
export { VersionedStore, type CheckpointStore, type VersionInfo, type SaveOptions, type LoadOptions, type Loaded } from './store.js';
export { IdbCheckpointStore, storageEstimate, requestPersistence } from './idb-store.js';
export { sha256 } from './sha256.js';
