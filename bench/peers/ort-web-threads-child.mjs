// The child process of the ort-web-wasm-<n>t peer (ort-web-threads.mjs): onnxruntime-web with numThreads from argv,
// sessions made from the parent's inputs, and session.run() timed here.
import * as ortWeb from 'onnxruntime-web';
import { ortImpl } from './ort-impl.mjs';
import { timeCalls } from '../timing.mjs';

const ort = ortWeb.default ?? ortWeb;
ort.env.wasm.numThreads = Number(process.argv[2]);
ort.env.wasm.proxy = false;
ort.env.logLevel = 'error';

const impl = ortImpl('ort-web-wasm-threads', ort, {
  executionProviders: ['wasm'],
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const sessions = new Map();
let next = 0;

async function answer(m) {
  switch (m.kind) {
    case 'ready':
      return true;
    case 'matmul':
    case 'conv2d':
    case 'model': {
      const r =
        m.kind === 'matmul'
          ? await impl.matmul(m.M, m.K, m.N, m.a, m.b)
          : m.kind === 'conv2d'
            ? await impl.conv2d(m.spec, m.x, m.w)
            : await impl.model(m.onnx, m.x, m.shape);
      sessions.set(next, r);
      return next++;
    }
    case 'time': {
      const r = sessions.get(m.session);
      return timeCalls(() => r.run(), m.n);
    }
    case 'output':
      return sessions.get(m.session).output();
    case 'dispose':
      sessions.get(m.session)?.dispose();
      sessions.delete(m.session);
      return true;
    default:
      throw new Error(`unknown request ${m.kind}`);
  }
}

process.on('message', (m) => {
  answer(m).then(
    (value) => process.send({ id: m.id, value }),
    (e) => process.send({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
