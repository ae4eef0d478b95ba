import { css, html, nothing, type ReactiveController } from 'lit';
import * as lh from '../../src/index.js';
import type { VersionInfo } from '../../src/index.js';
import { FederationPanel } from './federation-panel.js';
import { isMode, modeInfo } from './learn-modes.js';
import { ImportRefused } from './personalizer.js';
import type { Shell } from './shell.js';

/**
 * A failed ONNX import in words a person understands (the library's message names protobuf offsets and opsets):
 * what is wrong with the file, and what to do instead.
 */
export function importProblem(file: string, e: unknown): string {
  const { detail = (e as Error)?.message ?? String(e), hint = '' } = e as { detail?: string; hint?: string };
  const op = /has op (\w+)/.exec(detail)?.[1];
  if (e instanceof ImportRefused) return `“${file}” ${e.message}.`;
  if (/^the bytes are not an ONNX model/.test(detail) || /damaged/.test(hint))
    return `“${file}” is not an ONNX model, or it is damaged. Choose a .onnx file, such as one exported here.`;
  if (op) return `“${file}” uses ${op}, an operation this app cannot run. Choose a model made of common layers.`;
  if (/opset/.test(detail))
    return `“${file}” was saved for a version of ONNX this app cannot read. Export it again with a common opset.`;
  return `“${file}” is an ONNX model this app cannot use (its layers or weights do not fit together).`;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const percent = (a: unknown) => (a === undefined ? '' : `${(100 * Number(a)).toFixed(0)}%`);
/** How a version was made: a federation's round, the Learn mode that saved it, or an import. */
const how = (v: VersionInfo) => {
  const fed = v.meta.federated as { round?: number } | undefined;
  if (fed) return `federated (round ${fed.round})`;
  return isMode(v.meta.mode) ? modeInfo(v.meta.mode).name : v.meta.imported ? 'imported' : '';
};

/** The My model tab: saved versions and roll back, storage, export and import as ONNX, a federation, forget me. */
export class ModelPanel implements ReactiveController {
  static styles = [
    css`
    .import .error { color: var(--bad); margin: 4px 0 0; }
    .import details { font-size: 12px; color: var(--muted); }
  `,
    FederationPanel.styles,
  ];
  versions: VersionInfo[] = [];
  quota: { usage: number; quota: number } | null = null;
  /** Why the last import was refused, shown by the import control. */
  importError = '';
  /** The library's own words for the last refused import (for someone who wants them, under "details"). */
  private importDetail = '';
  private federation: FederationPanel;

  constructor(private shell: Shell) {
    shell.addController(this);
    this.federation = new FederationPanel(shell);
  }

  hostUpdate(): void {}

  /** Re-reads the saved versions and the storage used. */
  async refresh(): Promise<void> {
    this.versions = await this.shell.model.versions();
    this.quota = await lh.storageEstimate();
    await this.federation.refresh();
    this.shell.requestUpdate();
  }

  private async rollback(v: number): Promise<void> {
    await this.shell.model.rollback(v);
    await this.shell.modelChanged();
    this.shell.message = `back to version ${v}`; // the message says the work, the versions table included, is done
  }

  private async forget(): Promise<void> {
    if (!confirm('Delete all your samples and every saved version of your model?')) return;
    await this.federation.stop();
    await this.shell.model.forget(this.shell.base);
    this.shell.clearPad();
    await this.shell.modelChanged();
    this.shell.message = 'forgotten: your samples and models are deleted; the base model is back';
  }

  private async exportOnnx(): Promise<void> {
    const bytes = await this.shell.model.exportOnnx();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    a.download = 'my-digits.onnx';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    this.shell.message = `exported my-digits.onnx (${bytes.length} bytes)`;
  }

  private async importOnnx(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    this.importError = '';
    this.importDetail = '';
    try {
      await this.shell.model.importOnnx(new Uint8Array(await file.arrayBuffer()));
      await this.shell.modelChanged();
      this.shell.message = `imported ${file.name}`;
    } catch (err) {
      // said by the import control, in words; the library's own message stays available under "details"
      this.importError = importProblem(file.name, err);
      this.importDetail = (err as Error).message;
      this.shell.message = '';
    } finally {
      input.value = ''; // the same file chosen again is a new change
      this.shell.requestUpdate();
    }
  }

  render() {
    const { shell } = this;
    return html`
      <p>${shell.status?.source ?? '…'}</p>
      ${
        this.versions.length
          ? html`<table><tr><th>version</th><th>saved</th><th>how</th><th>size</th><th>accuracy (kept aside)</th>
          <th></th></tr>
        ${[...this.versions].reverse().map(
          (v) => html`<tr><td>${v.version}</td><td>${new Date(v.createdAt).toLocaleString()}</td><td>${how(v)}</td>
          <td>${mib(v.bytes)}</td>
          <td class="accuracy">${percent(v.meta.accuracy)}</td>
          <td>${
            v.version === shell.status?.version
              ? 'in use'
              : html`<button ?disabled=${shell.running.has('rollback')}
                  @click=${(e: Event) => shell.act(e, 'rollback', () => this.rollback(v.version))}>Use this</button>`
          }</td></tr>`,
        )}</table>`
          : html`<p>No saved versions yet: teach and learn first.</p>`
      }
      <p>Storage: ${this.quota ? `${mib(this.quota.usage)} used of ${mib(this.quota.quota)}` : 'unknown'}</p>
      <div class="row"><button id="export" ?disabled=${shell.running.has('export')}
        @click=${(e: Event) => shell.act(e, 'export', () => this.exportOnnx())}>Export ONNX</button></div>
      <div class="import">
        <label>Import ONNX <input type="file" accept=".onnx" aria-describedby="import-error"
          @change=${(e: Event) => shell.act(undefined, 'import', () => this.importOnnx(e))}></label>
        <p id="import-error" class="error" role="alert">${this.importError}</p>
        ${this.importDetail ? html`<details><summary>details</summary>${this.importDetail}</details>` : nothing}
      </div>
      ${this.federation.render()}
      <div class="row"><button id="forget" ?disabled=${shell.running.has('forget')}
        @click=${(e: Event) => shell.act(e, 'forget', () => this.forget())}>Forget me (delete my data and model)
      </button></div>`;
  }
}
