import { defineConfig } from 'vitest/config';
import { referenceKinds } from './test/reporter/reference-kinds.js';

export default defineConfig({
  test: {
    // what each test checks against (one kind per test); the reporter prints the counts at the end of `npm test`
    tags: [...referenceKinds],
    reporters: ['default', './test/reporter/reference-kinds.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          environment: 'node',
          pool: 'forks',
          // Node 20 validates relaxed SIMD only behind this flag; with it both wasm builds are tested.
          execArgv: ['--experimental-wasm-relaxed-simd'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // after everything else, one file at a time: the browser tests measure the page's responsiveness (long
          // tasks while learning) and must not share the 2 cores with training tests or with each other
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          environment: 'node',
          pool: 'forks',
          // the Node side of browser-vs-Node comparisons must run the same (relaxed SIMD) kernels as Chromium
          execArgv: ['--experimental-wasm-relaxed-simd'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          environment: 'node',
          pool: 'forks',
          testTimeout: 400_000,
          hookTimeout: 700_000,
        },
      },
    ],
  },
});
