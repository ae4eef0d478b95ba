// The pure data layer: it runs in browsers and workers. Reading files (idx-file.ts, node:fs) is imported
// directly by Node code so bundles never pull in node:fs.
export { parseIdx, type IdxArray } from './idx.js';
export { datasetFromIdx, subset, type DatasetOptions, type ImageDataset } from './dataset.js';
export {
  decodeImage,
  imageToInput,
  isImagePath,
  loadImageFolder,
  resizeImage,
  toChannels,
  IMAGE_EXTENSIONS,
  MAX_IMAGE_MEGAPIXELS,
  type DecodedImage,
  type ImageFileEntry,
  type ImageFolderData,
  type ImageFolderOptions,
  type ImageFormat,
  type SkippedImage,
} from './image-folder.js';
export {
  BatchIterator,
  epochOrder,
  MNIST_NORMALIZATION,
  normalizePixels,
  toTensors,
  UNIT_SCALE,
  type Batch,
  type BatchCursor,
  type BatchOptions,
  type Normalization,
} from './batches.js';
