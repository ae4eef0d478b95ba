/**
 * `layerhive explain --model x.onnx` from source (runExplain, in-process): the file is loaded as layers (loadOnnx), so
 * the gradient methods and CAM run on it, and give what they give on the checkpoint `layerhive import` makes of it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRule, type RuleConfig } from '../../../src/index.js';
import { exportOnnx } from '../../../src/onnx/export.js';
import { runImport } from '../../../src/cli/train.js';
import { runExplain, runExplainEval } from '../../../src/cli/explain.js';
import { js } from '../helpers.js';

const dir = fileURLToPath(new URL('../../../.tmp/cli-explain-onnx/', import.meta.url));

/** Runs `fn` with console.log captured; returns the lines it logged. */
async function quiet(fn: () => Promise<unknown>): Promise<string[]> {
  const log = console.log,
    lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    await fn();
    return lines;
  } finally {
    console.log = log;
  }
}

describe('explain --model x.onnx', () => {
  it('gives the attributions (gradients, Grad-CAM) of the checkpoint `layerhive import` makes of the file', {
    tags: ['invariant'],
  }, async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const config: RuleConfig = {
      rule: 'backprop',
      model: 'mlp',
      layers: [
        { type: 'conv2d', filters: 4, kernel: 3, pad: 1 },
        { type: 'relu' },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10 },
      ],
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 9,
      optimizer: { type: 'adam', lr: 1e-3 },
    };
    const rule = createRule(config, js);
    writeFileSync(`${dir}cnn.onnx`, await exportOnnx(rule));
    rule.dispose();
    await quiet(() => runImport({ file: `${dir}cnn.onnx`, out: `${dir}imported`, rule: 'backprop', lr: 1e-3 }));
    const explainIt = (model: string, out: string) =>
      quiet(() =>
        runExplain({
          model,
          data: 'mnist',
          index: 3,
          method: 'saliency,ig,grad-cam',
          samples: 8,
          out,
          backend: 'wasm',
        }),
      );
    await explainIt(`${dir}cnn.onnx`, `${dir}from-file`);
    await explainIt(`${dir}imported`, `${dir}from-checkpoint`);
    const read = (out: string) => JSON.parse(readFileSync(`${out}/attributions.json`, 'utf8'));
    const file = read(`${dir}from-file`),
      ck = read(`${dir}from-checkpoint`);
    expect(file.rule).toBeNull();
    expect(ck.rule).toBe('backprop');
    expect(Object.keys(file.methods)).toEqual(['saliency', 'integrated-gradients', 'grad-cam']);
    for (const m of Object.keys(file.methods)) {
      expect(file.methods[m].target, m).toBe(ck.methods[m].target);
      expect(file.methods[m].values, m).toEqual(ck.methods[m].values);
    }
    const lines = await quiet(() =>
      runExplainEval({
        model: `${dir}cnn.onnx`,
        data: 'mnist',
        methods: 'grad-cam',
        count: 2,
        backend: 'wasm',
        json: true,
      }),
    );
    const scores = JSON.parse(lines.at(-1)!);
    expect(scores.rows.map((r: { method: string }) => r.method)).toEqual(['grad-cam']);
  });

  it('an ONNX file whose input is not the test images’ is a typed error', { tags: ['behaviour'] }, async () => {
    const rule = createRule(
      {
        rule: 'backprop',
        model: 'mlp',
        layers: [{ type: 'flatten' }, { type: 'dense', units: 10 }],
        inputShape: [1, 8, 8],
        classes: 10,
        seed: 1,
        optimizer: { type: 'adam', lr: 1e-3 },
      },
      js,
    );
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}small.onnx`, await exportOnnx(rule));
    rule.dispose();
    await expect(
      quiet(() =>
        runExplain({ model: `${dir}small.onnx`, data: 'mnist', index: 0, method: 'ig', out: `${dir}x`, backend: 'js' }),
      ),
    ).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: expect.stringContaining('small.onnx takes [N, 1, 8, 8] but the test images are [N, 1, 28, 28]'),
    });
  });
});
