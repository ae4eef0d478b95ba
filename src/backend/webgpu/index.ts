import { registerBackend } from '../select.js';
import { WebGpuBackend } from './webgpu-backend.js';
import { registerWebGpuKernels } from './kernels/register.js';

registerWebGpuKernels();
registerBackend('webgpu', () => WebGpuBackend.create());

export { WebGpuBackend };
export { setGpuProvider } from './provider.js';
