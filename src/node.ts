// Node-only additions to the public API (file system): `import { loadMnist } from 'layerhive/node'`.
export { loadMnist, loadIdxDir, readIdxFile, mnistDataDir, type TrainTest } from './data/idx-file.js';
export { isImageFolder, readImageFolder } from './data/image-folder-file.js';
export { FsCheckpointStore } from './store/fs-store.js';
export { nodeSpawner } from './parallel/spawn-node.js';
/** The built stage worker beside this bundle (dist/stage.worker.js). */
export const stageWorkerUrl = new URL('./stage.worker.js', import.meta.url);
export { useNodeWebGpu } from './backend/webgpu/node-gpu.js';
