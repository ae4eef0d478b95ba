// Machine facts recorded in bench/results/*.json.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// () -> v128 { v128.const 0; v128.const 0; v128.const 0; f32x4.relaxed_madd }
function tinyModule(body) {
  const code = [0x00, ...body, 0x0b];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version
    0x01,
    0x05,
    0x01,
    0x60,
    0x00,
    0x01,
    0x7b, // type section: () -> v128
    0x03,
    0x02,
    0x01,
    0x00, // function section
    0x0a,
    code.length + 2,
    0x01,
    code.length,
    ...code, // code section
  ]);
}
const V128_ZERO = [0xfd, 0x0c, ...new Array(16).fill(0)];

/** True when this engine accepts fixed-width SIMD (f32x4.add). */
export function simdValidates() {
  return WebAssembly.validate(tinyModule([...V128_ZERO, ...V128_ZERO, 0xfd, 0xe4, 0x01]));
}

/** True when this engine accepts relaxed SIMD (f32x4.relaxed_madd); Node 20 needs --experimental-wasm-relaxed-simd. */
export function relaxedSimdValidates() {
  return WebAssembly.validate(tinyModule([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]));
}

function pkgVersion(name) {
  try {
    // Resolve the entry, then walk up to the package.json (some packages do not export ./package.json).
    let dir = require.resolve(name);
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
        if (pkg.name === name) return pkg.version;
      } catch {}
    }
  } catch {}
  return null;
}

export function machineInfo(extra = {}) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    wasm_simd: simdValidates(),
    relaxed_simd: relaxedSimdValidates(),
    node_flags: process.execArgv,
    peers: {
      '@tensorflow/tfjs-core': pkgVersion('@tensorflow/tfjs-core'),
      '@tensorflow/tfjs-backend-wasm': pkgVersion('@tensorflow/tfjs-backend-wasm'),
      'onnxruntime-web': pkgVersion('onnxruntime-web'),
      'onnxruntime-node': pkgVersion('onnxruntime-node'),
    },
    ...extra,
  };
}
