import { registerBackend } from '../select.js';
import { WebGpuBackend } from './webgpu-backend.js';
import { registerWebGpuKernels } from './kernels/register.js';
import { tuneMatMul } from './kernels/matmul.js';

registerWebGpuKernels();
registerBackend('webgpu', async () => {
  const b = await WebGpuBackend.create();
  await tuneMatMul(b);
  return b;
});

export { WebGpuBackend };
export { setGpuProvider } from './provider.js';
export { tuneMatMul } from './kernels/matmul.js';
