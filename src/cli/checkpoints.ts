import Table from 'cli-table3';
import { fail } from '../core/errors.js';
import { FsCheckpointStore } from '../store/fs-store.js';

/** `layerhive checkpoints DIR [--rollback V | --delete V | --keep N]`: the versions of a checkpoint folder. */
export async function runCheckpoints(a: {
  dir: string;
  rollback?: number;
  delete?: number;
  keep?: number;
  json: boolean;
}): Promise<void> {
  const { store, name } = FsCheckpointStore.at(a.dir);
  if ([a.rollback, a.delete, a.keep].filter((v) => v !== undefined).length > 1)
    fail('INVALID_ARGUMENT', 'pass one of --rollback, --delete, --keep', 'run them one after the other');
  if (a.rollback !== undefined)
    console.log(`version ${(await store.rollback(name, a.rollback)).version} is a copy of version ${a.rollback}`);
  if (a.delete !== undefined) {
    await store.delete(name, a.delete);
    console.log(`deleted version ${a.delete}`);
  }
  if (a.keep !== undefined) console.log(`deleted versions: ${(await store.prune(name, a.keep)).join(', ') || 'none'}`);
  const versions = await store.list(name);
  if (!versions.length)
    fail('NOT_FOUND', `${a.dir} holds no checkpoint versions`, 'write one with `layerhive train --out DIR`');
  if (a.json) {
    console.log(JSON.stringify(versions, null, 2));
    return;
  }
  const t = new Table({ head: ['version', 'saved', 'MiB', 'int8', 'epochs done', 'test accuracy', 'note'] });
  for (const v of versions) {
    const run = v.meta.run as { epochsDone?: number; epochs?: number; testAccuracy?: number } | undefined;
    t.push([
      v.version,
      v.createdAt.replace('T', ' ').slice(0, 19),
      (v.bytes / 2 ** 20).toFixed(2),
      v.quantized ? 'yes' : '',
      run ? `${run.epochsDone}/${run.epochs}` : '',
      run?.testAccuracy !== undefined ? `${(100 * run.testAccuracy).toFixed(2)}%` : '',
      v.rolledBackFrom !== undefined ? `copy of ${v.rolledBackFrom}` : '',
    ]);
  }
  console.log(t.toString());
}
