import { registerBackend } from '../select.js';
import { JsBackend } from './js-backend.js';
import { registerReferenceKernels } from './kernels/register.js';

registerReferenceKernels('js', 'reference');
registerBackend('js', async () => new JsBackend());

export { JsBackend };
