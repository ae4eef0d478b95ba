/**
 * The stage worker: the same file runs as a module Web Worker and as a Node worker_threads worker.
 * It hosts one StageHost and exposes it over comlink; nothing else lives here.
 */
import * as Comlink from 'comlink';
import { StageHost } from '../src/parallel/stage-host.js';

async function endpoint(): Promise<Comlink.Endpoint> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) return self as unknown as Comlink.Endpoint;
  const [{ parentPort }, { default: nodeEndpoint }] = await Promise.all([
    import('node:worker_threads'),
    import('comlink/dist/esm/node-adapter.mjs'),
  ]);
  return nodeEndpoint(parentPort as never);
}

Comlink.expose(new StageHost(), await endpoint());
