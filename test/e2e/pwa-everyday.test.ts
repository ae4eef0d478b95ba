// @module-tag behaviour
/**
 * The app (dist/pwa) as a person uses it every day, in real Chromium (issue 16, item 1): the sample count follows
 * the teaching (page and IndexedDB agree); a double-click acts once (one sample, one download, one question); a hint
 * does not stay beside a prediction; a file that is not a digit model is refused in words, by the import control;
 * leaving during Learn asks first, and the next load says that Learn was interrupted. Each test has a fresh browser
 * profile, so none depends on another. No fixed sleeps: the tests wait on the page's text, events and IndexedDB.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { createBackend, exportOnnx, nn, Rng } from '../../src/index.js';
import { launch } from './chromium.js';
import { useBrowser } from './fixture.js';
import {
  draw,
  msg,
  openApp as open,
  predicted,
  ready,
  serveBuiltApp,
  shadowText,
  storedLabels,
  teach,
} from './app-page.js';

const { onnx } = onnxProto;
// only the server is shared: each test launches its own browser with an empty profile (empty IndexedDB)
const env = useBrowser({ serve: serveBuiltApp });
const openApp = () => open(env.server.url);

describe.sequential('the app, every day', () => {
  it('counts every taught sample: after N the page says N, and IndexedDB holds N', async () => {
    const { page, close } = await openApp();
    try {
      for (let n = 1; n <= 4; n++) {
        await teach(page, n % 3, (n % 3) * 4 - 4);
        // the message is set once the sample is in IndexedDB
        expect(await storedLabels(page)).toHaveLength(n);
        expect(await msg(page)).toMatch(new RegExp(`^kept as a ${n % 3} \\(${n} samples?\\)$`));
        expect(await page.locator('#learn').textContent()).toMatch(new RegExp(`^Learn from my ${n} samples?$`));
      }
    } finally {
      await close();
    }
  }, 120_000);

  it('a double-clicked label keeps one sample', async () => {
    const { page, close } = await openApp();
    try {
      await draw(page);
      await predicted(page);
      await page.locator('button.digit[data-digit="3"]').dblclick();
      await expect.poll(() => msg(page), { timeout: 30_000 }).toMatch(/^kept as a 3/);
      // a later single teach: IndexedDB keeps its writes in order, so a second 3 would be stored before this 5
      await teach(page, 5);
      expect(await storedLabels(page)).toEqual([3, 5]);
      expect(await page.locator('#learn').textContent()).toBe('Learn from my 2 samples');
    } finally {
      await close();
    }
  }, 120_000);

  it('a double-clicked Export gives one download', async () => {
    const { page, close } = await openApp();
    try {
      // every download the page starts, counted where it starts (an <a download> clicked)
      await page.evaluate(() => {
        const w = window as unknown as { downloads: string[] };
        w.downloads = [];
        const click = HTMLAnchorElement.prototype.click;
        HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
          if (this.download) w.downloads.push(this.download);
          click.call(this);
        };
      });
      const downloads = () => page.evaluate(() => (window as unknown as { downloads: string[] }).downloads.length);
      await page.locator('nav button', { hasText: 'My model' }).click();
      // one single-click Export first, so the ONNX writer is loaded and a second export, if any, follows quickly
      await page.locator('#export').click();
      await expect.poll(downloads, { timeout: 30_000 }).toBe(1);
      await page.locator('#export').dblclick();
      await expect.poll(downloads, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      // the page settled: Export usable again, then a rendered frame and a turn of the event loop
      await page.waitForFunction(
        () => !document.querySelector('lh-app')?.shadowRoot?.querySelector('#export[disabled]'),
      );
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r))));
      expect(await downloads()).toBe(2);
    } finally {
      await close();
    }
  }, 120_000);

  it('a double-clicked Forget me asks once', async () => {
    const { page, close } = await openApp();
    try {
      await teach(page, 2);
      const dialogs: string[] = [];
      let phase = 'double-click';
      page.on('dialog', (d) => {
        dialogs.push(`${phase}: ${d.type()}`);
        // the first question is answered yes (forgetting runs); any other is answered no
        void (dialogs.length === 1 ? d.accept() : d.dismiss());
      });
      await page.locator('nav button', { hasText: 'My model' }).click();
      await page.locator('#forget').dblclick();
      await expect.poll(() => msg(page), { timeout: 60_000 }).toMatch(/^forgotten/);
      // a single click after: a confirm() blocks the page, so a second question from the double-click comes first
      phase = 'single click';
      await page.locator('#forget').click();
      await expect.poll(() => dialogs.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      expect(dialogs).toEqual(['double-click: confirm', 'single click: confirm']);
      expect(await storedLabels(page)).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  it('a hint does not stay: "draw a digit first" goes once a digit is drawn and read', async () => {
    const { page, close } = await openApp();
    try {
      await page.locator('button.digit[data-digit="7"]').click();
      expect(await msg(page)).toBe('draw a digit first');
      await draw(page);
      await predicted(page);
      expect(await msg(page)).not.toContain('draw a digit first');
    } finally {
      await close();
    }
  }, 120_000);

  it('a file that is not a digit model is refused in plain words, by the import control', async () => {
    // three files the app cannot use: not ONNX at all, a classifier of other inputs, a layer it cannot run
    const js = await createBackend('js');
    const other = await exportOnnx(
      new nn.Sequential({ input: [4], layers: [{ type: 'dense', units: 3 }] }, { backend: js, rng: new Rng(1) }),
    );
    const vi = (name: string, dims: (number | string)[]) =>
      onnx.ValueInfoProto.create({
        name,
        type: {
          tensorType: {
            elemType: onnx.TensorProto.DataType.FLOAT,
            shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
          },
        },
      });
    const einsum = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 7,
        opsetImport: [{ domain: '', version: 13 }],
        graph: {
          name: 'g',
          node: [{ name: 'n0', opType: 'Einsum', input: ['x'], output: ['y'] }],
          input: [vi('x', ['N', 784])],
          output: [vi('y', ['N', 10])],
        },
      }),
    ).finish();
    const files: [string, Uint8Array, RegExp][] = [
      ['holiday.onnx', Buffer.from('these bytes are a shopping list, not a neural network'), /not an ONNX model/],
      ['other.onnx', other, /not a digit reader.*takes 4 inputs.*3 classes.*28×28 drawings and the 10 digits/],
      ['einsum.onnx', einsum, /uses Einsum, an operation this app cannot run/],
    ];
    const { page, close } = await openApp();
    try {
      await page.locator('nav button', { hasText: 'My model' }).click();
      const error = page.locator('.import [role=alert]');
      for (const [name, bytes, words] of files) {
        await page.locator('input[type=file]').setInputFiles({
          name,
          mimeType: 'application/octet-stream',
          buffer: Buffer.from(bytes),
        });
        await expect.poll(() => error.textContent(), { timeout: 30_000 }).toContain(`“${name}”`);
        const said = (await error.textContent())!;
        expect(said).toMatch(words);
        // no protobuf internals and no library jargon
        expect(said).not.toMatch(/wire type|offset \d|DATA_INVALID|protobuf|index out of range|layerhive/i);
        // said by the control, not under the pad
        expect(await msg(page)).toBe('');
        expect(await shadowText(page, 'section p')).toMatch(/^base model/); // the model in use is unchanged
      }
      // a model that fits clears the refusal
      const download = page.waitForEvent('download');
      await page.locator('#export').click();
      const file = (await (await download).path())!;
      await page.locator('input[type=file]').setInputFiles({
        name: 'mine.onnx',
        mimeType: 'application/octet-stream',
        buffer: readFileSync(file),
      });
      // (the refusal and the library's words, should this import be refused)
      const outcome = async () => `${await msg(page)}${await error.textContent()}${await shadowText(page, 'details')}`;
      await expect.poll(outcome, { timeout: 60_000 }).toBe('imported mine.onnxnull');
    } finally {
      await close();
    }
  }, 120_000);

  it('leaving during Learn asks first, and the next load says Learn was interrupted', async () => {
    const b = await launch();
    try {
      let page = await b.context.newPage();
      await page.goto(env.server.url);
      await ready(page);
      await teach(page, 1);
      await page.locator('#learn').click();
      await page.waitForFunction(() => !!document.querySelector('lh-app')?.shadowRoot?.querySelector('progress'));
      const dialog = page.waitForEvent('dialog');
      const closed = page.waitForEvent('close');
      await page.close({ runBeforeUnload: true });
      const asked = await dialog;
      expect(asked.type()).toBe('beforeunload');
      await asked.accept(); // leave anyway
      await closed;
      page = await b.context.newPage();
      await page.goto(env.server.url);
      await ready(page);
      await expect
        .poll(() => shadowText(page, '.note'), { timeout: 30_000 })
        .toMatch(/Learn was interrupted.*your 1 sample is kept/i);
      // and the note is not repeated once seen
      await page.reload();
      await ready(page);
      expect(await shadowText(page, '.note')).toBeNull();
    } finally {
      await b.close();
    }
  }, 180_000);
});
