#!/usr/bin/env node
// The house's line width, for what Biome does not cover: it breaks code but not long comments, strings or regular
// expressions, and it cannot parse the AssemblyScript kernels (decorators on functions). Lists every line over 120
// characters in the source folders and fails when there is one.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const WIDTH = 120;
const root = fileURLToPath(new URL('..', import.meta.url));
const folders = ['src', 'workers', 'wasm', 'pwa', 'bench', 'test', 'bin', 'tools', 'federated'];
const skip = new Set(['node_modules', 'dist', 'build', 'base-model', 'results']);
const generated = /\.generated\.ts$/;
const checked = /\.(ts|mjs|js|html)$/;

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!skip.has(e.name)) yield* files(join(dir, e.name));
    } else if (checked.test(e.name) && !generated.test(e.name)) yield join(dir, e.name);
  }
}

const long = [];
for (const folder of folders) {
  for (const file of files(join(root, folder))) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const width = [...line].length;
        if (width > WIDTH) long.push(`${relative(root, file)}:${i + 1}: ${width} characters`);
      });
  }
}
if (long.length) {
  console.error(`${long.length} line(s) longer than ${WIDTH} characters:\n${long.join('\n')}`);
  process.exit(1);
}
