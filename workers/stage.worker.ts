/**
 * The stage worker: the same file runs as a module Web Worker and as a Node worker_threads worker.
 * It hosts one StageHost and exposes it over comlink; nothing else lives here.
 */
import * as Comlink from 'comlink';
import '../src/backend/builtin.js'; // the backends register themselves, as through the library's entry
import { StageHost } from '../src/parallel/stage-host.js';
import { carryTypedErrors } from '../src/parallel/error-transfer.js';

/**
 * The worker's side of comlink: `self` in a browser; in Node the parent port, and WebGPU through Dawn when installed.
 */
async function endpoint(): Promise<Comlink.Endpoint> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) return self as unknown as Comlink.Endpoint;
  const [{ parentPort }, { default: nodeEndpoint }, { useNodeWebGpu }] = await Promise.all([
    import('node:worker_threads'),
    import('comlink/dist/esm/node-adapter.mjs'),
    import('../src/backend/webgpu/node-gpu.js'),
  ]);
  await useNodeWebGpu();
  return nodeEndpoint(parentPort as never);
}

carryTypedErrors(); // a LayerhiveError keeps its code and hint on its way to the coordinator
Comlink.expose(new StageHost(), await endpoint());
