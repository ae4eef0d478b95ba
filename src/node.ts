// Node-only additions to the public API (file system): `import { loadMnist } from 'layerhive/node'`.
export { loadMnist, loadIdxDir, readIdxFile, mnistDataDir, type TrainTest } from './data/idx-file.js';
export { saveCheckpoint, loadCheckpoint } from './store/fs-checkpoint.js';
