import { registerBackend } from '../select.js';
import { WasmBackend } from './wasm-backend.js';
import { registerWasmKernels } from './kernels/register.js';

registerWasmKernels();
registerBackend('wasm', (options) => WasmBackend.create(options));

export { WasmBackend };
