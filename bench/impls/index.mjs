// The list of impls the kernel bench runs: layerhive's own (from ./layerhive.mjs, written by the
// lead) plus the three peers. Loading never throws: an impl that fails to load (import error,
// factory error, timeout, or an impl object carrying `unavailable: "reason"`) comes back in
// `skipped` with the reason, and is printed as a skipped row.

/** Names layerhiveImpls() is expected to provide; missing ones are reported as skipped. */
export const LAYERHIVE_NAMES = ['js', 'wasm-simd', 'wasm-relaxed', 'wasm-relaxed-2t'];

/** Peers, in table order. `load` resolves to one Impl. */
export const PEERS = [
  { name: 'tfjs-wasm', load: async () => (await import('../peers/tfjs-wasm.mjs')).tfjsWasmImpl() },
  { name: 'ort-web-wasm', load: async () => (await import('../peers/ort-web.mjs')).ortWebImpl() },
  {
    name: 'ort-web-wasm-2t',
    load: async () => (await import('../peers/ort-web-threads.mjs')).ortWebThreadsImpl(2),
  },
  { name: 'ort-node', load: async () => (await import('../peers/ort-node.mjs')).ortNodeImpl() },
  { name: 'ort-node-2t', load: async () => (await import('../peers/ort-node.mjs')).ortNodeImpl(2) },
];

/** Every impl name the bench knows about (for --impl validation and messages). */
export const KNOWN_IMPLS = [...LAYERHIVE_NAMES, 'webgpu', ...PEERS.map((p) => p.name)];

const LOAD_TIMEOUT_MS = 60_000;

function reason(err) {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 160);
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${LOAD_TIMEOUT_MS / 1000} s`)), LOAD_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * wanted: null (all) or a Set of impl names. layerhive's impls are always loaded because the
 * `js` impl is the correctness oracle even when it is not timed.
 * Returns { impls: Impl[], skipped: { name, reason }[] }.
 */
export async function loadImpls(wanted = null) {
  const impls = [];
  const skipped = [];
  const want = (name) => wanted === null || wanted.has(name);
  const accept = (impl) => {
    if (typeof impl.unavailable === 'string' && impl.unavailable) {
      skipped.push({ name: impl.name, reason: impl.unavailable });
    } else {
      impls.push(impl);
    }
  };

  try {
    const mod = await withTimeout(import('./layerhive.mjs'), 'layerhive');
    if (typeof mod.layerhiveImpls !== 'function') throw new Error('./layerhive.mjs does not export layerhiveImpls()');
    const list = await withTimeout(mod.layerhiveImpls(), 'layerhiveImpls()');
    if (!Array.isArray(list)) throw new Error('layerhiveImpls() did not return an array');
    for (const impl of list) {
      if (!impl || typeof impl.name !== 'string') throw new Error('layerhiveImpls() returned an impl without a name');
      accept(impl);
    }
    for (const name of LAYERHIVE_NAMES) {
      if (!list.some((i) => i.name === name)) skipped.push({ name, reason: 'not provided by layerhiveImpls()' });
    }
  } catch (err) {
    for (const name of LAYERHIVE_NAMES) skipped.push({ name, reason: `layerhive failed to load: ${reason(err)}` });
  }

  for (const peer of PEERS) {
    if (!want(peer.name)) continue;
    try {
      accept(await withTimeout(peer.load(), peer.name));
    } catch (err) {
      skipped.push({ name: peer.name, reason: `failed to load: ${reason(err)}` });
    }
  }
  return { impls, skipped };
}
