import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import type { RollupOptions } from 'rollup';

/** Node built-ins and the CLI's dependencies stay imports; comlink is bundled so the worker file stands alone in a browser. */
const external = (id: string) =>
  id.startsWith('node:') || /^(commander|cli-table3|cli-progress|webgpu|pngjs)(\/|$)/.test(id);

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

/**
 * The stage worker for pages that use layerhive as a dependency: one self-contained file (no chunks; the Node-only
 * branches stay dynamic imports that a browser never runs), so a bundler can copy it as one asset
 * (`import url from 'layerhive/stage.worker.js?url'` in Vite) or a site can serve it as it is.
 */
const browserWorker: RollupOptions = {
  input: 'workers/stage.worker.ts',
  output: { file: 'dist/browser/stage.worker.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
  external,
  plugins: [
    nodeResolve({ browser: true, preferBuiltins: false }),
    commonjs(),
    typescript({
      tsconfig: './tsconfig.build.json',
      declaration: false,
      declarationDir: undefined,
      outDir: 'dist/browser',
    }),
  ],
};

/** The app (pwa/): lit components and the library for browsers, with its own copy of the stage worker. */
const app: RollupOptions = {
  input: { app: 'pwa/src/main.ts', 'stage.worker': 'workers/stage.worker.ts' },
  output: { dir: 'dist/pwa', format: 'es', sourcemap: true, chunkFileNames: 'chunks/[name]-[hash].js' },
  external,
  plugins: [
    nodeResolve({ browser: true, preferBuiltins: false }),
    commonjs(),
    typescript({ tsconfig: './tsconfig.pwa.json' }),
  ],
};

export default [config, browserWorker, app];
