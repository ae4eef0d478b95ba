import type { Reporter, TestModule } from 'vitest/node';

/**
 * What each test checks against. Every test carries exactly one of these tags (on itself, a describe, or its file
 * through a `// @module-tag KIND` line); the names and descriptions are the config's `tags`.
 */
export const referenceKinds = [
  { name: 'js-oracle', description: 'agreement with our own float32 js reference backend' },
  {
    name: 'self-comparison',
    description: 'a backend that runs the js kernel itself, compared with js: registration only',
  },
  { name: 'outside', description: 'agreement with outside software (onnxruntime, onnx, a peer) or a published figure' },
  { name: 'hand-computed', description: 'known answers worked out by hand or in a float64 restatement' },
  {
    name: 'invariant',
    description: 'a property the result must have (completeness, finite differences, determinism, learning)',
  },
  { name: 'behaviour', description: 'what a user sees: typed errors, persistence, files, exit codes, the page' },
] as const;

const names: readonly string[] = referenceKinds.map((k) => k.name);

/**
 * Prints, after the run, how many passed tests rest on each kind of reference, so the balance is visible; a test with
 * no kind or two fails the run, named.
 */
export default class ReferenceKindsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const passed = new Map<string, number>(names.map((n) => [n, 0]));
    const unclear: string[] = [];
    let total = 0;
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'skipped' || state === 'pending') continue;
        const kinds = t.tags.filter((tag) => names.includes(tag));
        if (kinds.length !== 1) {
          unclear.push(`${m.moduleId.replace(`${process.cwd()}/`, '')} › ${t.fullName} [${kinds.join(', ')}]`);
          continue;
        }
        if (state !== 'passed') continue;
        passed.set(kinds[0], (passed.get(kinds[0]) ?? 0) + 1);
        total++;
      }
    }
    if (total > 0) {
      const parts = [...passed].map(([k, n]) => `${k} ${n} (${((100 * n) / total).toFixed(0)}%)`);
      console.log(`\n Reference kinds of the ${total} passed tests: ${parts.join(' · ')}`);
    }
    if (unclear.length > 0) {
      console.error(
        `\n ${unclear.length} tests carry no reference kind or more than one (one of ${names.join(', ')}):`,
      );
      for (const u of unclear.slice(0, 20)) console.error(`   ${u}`);
      process.exitCode = 1;
    }
  }
}
