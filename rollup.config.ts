import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import type { RollupOptions } from 'rollup';

/** Node built-ins and the CLI's dependencies stay imports; comlink is bundled so the worker file stands alone in a browser. */
const external = (id: string) => id.startsWith('node:') || /^(commander|cli-table3|cli-progress|webgpu|pngjs)(\/|$)/.test(id);

const config: RollupOptions = {
  input: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    cli: 'src/cli/main.ts',
    'stage.worker': 'workers/stage.worker.ts',
  },
  output: {
    dir: 'dist',
    format: 'es',
    sourcemap: true,
    chunkFileNames: 'chunks/[name]-[hash].js',
  },
  external,
  plugins: [
    nodeResolve({ browser: false, preferBuiltins: true }),
    // onnx-proto (and protobufjs under it) are CommonJS; bundled so the browser build can export ONNX
    commonjs(),
    typescript({ tsconfig: './tsconfig.build.json' }),
  ],
};

/** The app (pwa/): lit components and the library for browsers, with its own copy of the stage worker. */
const app: RollupOptions = {
  input: { app: 'pwa/src/main.ts', 'stage.worker': 'workers/stage.worker.ts' },
  output: { dir: 'dist/pwa', format: 'es', sourcemap: true, chunkFileNames: 'chunks/[name]-[hash].js' },
  external,
  plugins: [nodeResolve({ browser: true, preferBuiltins: false }), commonjs(), typescript({ tsconfig: './tsconfig.pwa.json' })],
};

export default [config, app];
