import { css, html, nothing, type ReactiveController } from 'lit';
import { droppedEntries, droppedFolder, pickedFolder, type PickedFolder } from './folder-files.js';
import type { Skipped } from './folder-read.js';
import type { Shell } from './shell.js';
import { plural } from './teach-panel.js';

/** The most images one import reads: a folder with more is refused before any is read (and nothing is added). */
export const MAX_IMPORT_IMAGES = 2000;
/** Skipped files and folders listed by name under the summary; the rest are counted. */
const LISTED = 20;

/** What the last import did: the summary line, what was skipped, and the ids it added (for Undo). */
interface ImportResult {
  text: string;
  skipped: Skipped[];
  ids: number[];
}

/**
 * Teach from a folder, under the Teach tab: a folder of digit images, chosen (`<input webkitdirectory>`) or dropped,
 * becomes taught samples — as if each had been drawn and labelled — in one IndexedDB transaction, so an import that
 * fails half way adds nothing and what was stored before stays. A progress bar while it reads, then a summary: how
 * many of each digit were added, and each image or folder skipped with why; Undo takes the whole import back.
 */
export class FolderImport implements ReactiveController {
  static styles = css`
    .folder { margin: 12px 0 0; padding: 4px 8px 8px; border: 1px dashed var(--line); border-radius: 8px; }
    .folder.over { border-color: var(--accent); background: var(--surface); }
    .folder .hint { color: var(--muted); font-size: 13px; margin: 2px 0 6px; }
    .folder .skipped { font-size: 13px; margin: 4px 0; padding-left: 20px; }
  `;
  /** Share of the images read, 0…1, while an import runs. */
  done = 0;
  importing = false;
  result: ImportResult | null = null;
  /** A drag with files is over the area. */
  private over = false;

  constructor(private shell: Shell) {
    shell.addController(this);
  }

  hostUpdate(): void {}

  /** Off while the model loads, while Learn runs and while an import runs. */
  private get off(): boolean {
    return !this.shell.status || this.shell.learning || this.importing;
  }

  private picked(e: Event): void {
    const input = e.target as HTMLInputElement;
    if (!input.files?.length) return;
    const folder = pickedFolder(input.files);
    input.value = ''; // the same folder chosen again is a new change
    void this.shell.act(undefined, 'folder', () => this.teach(Promise.resolve(folder)));
  }

  private dragOver(e: DragEvent): void {
    if (this.off || !e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault(); // allows the drop
    e.dataTransfer.dropEffect = 'copy';
    if (!this.over) {
      this.over = true;
      this.shell.requestUpdate();
    }
  }

  private dragLeave(): void {
    this.over = false;
    this.shell.requestUpdate();
  }

  private drop(e: DragEvent): void {
    if (this.off || !e.dataTransfer) return;
    e.preventDefault();
    this.dragLeave();
    const entries = droppedEntries(e.dataTransfer); // now: the browser empties the DataTransfer after this handler
    void this.shell.act(undefined, 'folder', () => this.teach(droppedFolder(entries)));
  }

  private async teach(reading: Promise<PickedFolder>): Promise<void> {
    const { shell } = this;
    this.importing = true;
    this.done = 0;
    this.result = null;
    shell.message = 'reading the folder…';
    shell.requestUpdate();
    try {
      const [folder, { planFolder, readImages, summary }] = await Promise.all([reading, import('./folder-read.js')]);
      const plan = planFolder(folder.files);
      if (plan.images.length > MAX_IMPORT_IMAGES) {
        const n = plan.images.length.toLocaleString('en');
        this.result = {
          text:
            `nothing added: “${folder.name}” holds ${n} images in digit folders, and one import takes at most ` +
            `${MAX_IMPORT_IMAGES.toLocaleString('en')}: choose a folder with fewer (or import it in parts)`,
          skipped: [],
          ids: [],
        };
        shell.message = `nothing added from “${folder.name}”: too many images`;
        return;
      }
      shell.message = `reading ${plural(plan.images.length, 'image')} from “${folder.name}”…`;
      const read = await readImages(plan.images, (d) => {
        this.done = d;
        shell.requestUpdate();
      });
      const ids = read.samples.length ? await shell.model.addSamples(read.samples) : [];
      shell.status = { ...shell.model.status };
      const skipped = [...plan.skipped, ...read.skipped];
      this.result = { text: summary(read.samples, skipped, folder.name), skipped, ids };
      shell.message = ids.length
        ? `added ${plural(ids.length, 'image')} from “${folder.name}” (${plural(shell.status.samples, 'sample')})`
        : `nothing added from “${folder.name}”`;
    } catch (e) {
      this.result = { text: `the import failed, and nothing was added: ${(e as Error).message}`, skipped: [], ids: [] };
      shell.message = 'the import failed';
    } finally {
      this.importing = false;
      shell.requestUpdate();
    }
  }

  /** Takes the last import back: its samples are deleted as My samples deletes them. */
  private async undo(): Promise<void> {
    const { shell } = this;
    const ids = this.result?.ids ?? [];
    if (!ids.length || !confirm(`Remove the ${plural(ids.length, 'image')} this import added?`)) return;
    const again = await shell.model.forgetSamples(ids);
    shell.status = { ...shell.model.status };
    this.result = null;
    shell.message =
      `removed the ${plural(ids.length, 'imported image')}` +
      (again ? '; the next Learn starts again from the model they were never taught, without them' : '');
  }

  render() {
    const { shell } = this;
    const r = this.result;
    return html`<section class=${this.over ? 'folder over' : 'folder'} aria-labelledby="folder-title"
      @dragover=${(e: DragEvent) => this.dragOver(e)} @dragleave=${() => this.dragLeave()}
      @drop=${(e: DragEvent) => this.drop(e)}>
      <h2 class="sub" id="folder-title">Teach from a folder</h2>
      <p class="hint" id="folder-hint">A folder with a folder per digit, named 0 to 9 (or train/0 … train/9), of PNG or
        JPEG images: light digits on black, as MNIST's; at most ${MAX_IMPORT_IMAGES.toLocaleString('en')} at a time.
        Choose it, or drop it here.</p>
      <label>Choose a folder <input type="file" id="teach-folder" webkitdirectory aria-describedby="folder-hint"
        ?disabled=${this.off} @change=${(e: Event) => this.picked(e)}></label>
      ${this.importing ? html`<progress max="1" .value=${this.done} aria-label="images read"></progress>` : nothing}
      <p id="folder-summary" role="status">${r?.text ?? ''}</p>
      ${
        r?.skipped.length
          ? html`<ul class="skipped" aria-label="skipped">${r.skipped
              .slice(0, LISTED)
              .map((s) => html`<li>${s.reason}</li>`)}${
              r.skipped.length > LISTED ? html`<li>and ${r.skipped.length - LISTED} more</li>` : nothing
            }</ul>`
          : nothing
      }
      ${
        r?.ids.length
          ? html`<button id="undo-import" ?disabled=${shell.learning || shell.running.has('delete')}
              @click=${(e: Event) => shell.act(e, 'delete', () => this.undo())}>Undo this import (${plural(
                r.ids.length,
                'image',
              )})</button>`
          : nothing
      }
    </section>`;
  }
}
