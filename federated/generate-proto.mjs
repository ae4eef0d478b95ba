#!/usr/bin/env node
// Generates the TypeScript message types of Flower's Fleet API (src/federated/generated/, gitignored) from the .proto
// files vendored in federated/proto (Flower 1.42.0), with buf and protoc-gen-es. Files are renamed *_pb.generated.ts
// (the house's mark for generated code). Does nothing when the output is newer than every .proto; no network.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const protoDir = join(root, 'federated/proto/flwr/proto');
const outDir = join(root, 'src/federated/generated');
const marker = join(outDir, '.stamp');
const protos = readdirSync(protoDir).filter((f) => f.endsWith('.proto'));
const newest = Math.max(
  ...protos.map((f) => statSync(join(protoDir, f)).mtimeMs),
  statSync(fileURLToPath(import.meta.url)).mtimeMs,
);
if (existsSync(marker) && statSync(marker).mtimeMs >= newest) process.exit(0);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const bin = (name) => join(root, 'node_modules/.bin', process.platform === 'win32' ? `${name}.cmd` : name);
const template = {
  version: 'v2',
  plugins: [{ local: bin('protoc-gen-es'), out: outDir, opt: ['target=ts', 'import_extension=js'] }],
};
execFileSync(bin('buf'), ['generate', join(root, 'federated/proto'), '--template', JSON.stringify(template)], {
  stdio: 'inherit',
});
const genDir = join(outDir, 'flwr/proto');
for (const f of readdirSync(genDir)) {
  const text = readFileSync(join(genDir, f), 'utf8').replace(/_pb\.js"/g, '_pb.generated.js"');
  writeFileSync(join(genDir, f), text);
  renameSync(join(genDir, f), join(genDir, f.replace(/_pb\.ts$/, '_pb.generated.ts')));
}
writeFileSync(marker, `${new Date().toISOString()}\n`);
console.log(`federated: generated ${protos.length} Flower message modules in src/federated/generated`);
