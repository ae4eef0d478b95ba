import { css, html, nothing, type ReactiveController } from 'lit';
import { heldOut, type Sample } from './sample-store.js';
import type { Shell } from './shell.js';

let canvas: HTMLCanvasElement | null = null;

/**
 * A sample's 28×28 pixels as a PNG data URL (white ink on black, as drawn); one canvas for them all (a folder import
 * lists up to 2 000 at once).
 */
function thumbnail(pixels: Uint8Array): string {
  if (!canvas) {
    canvas = document.createElement('canvas');
    canvas.width = canvas.height = 28;
  }
  const c = canvas;
  const rgba = new Uint8ClampedArray(28 * 28 * 4);
  pixels.forEach((v, i) => {
    rgba.set([v, v, v, 255], i * 4);
  });
  c.getContext('2d')!.putImageData(new ImageData(rgba, 28, 28), 0, 0);
  return c.toDataURL();
}

/**
 * My samples, under the Teach tab: each taught drawing with its label and date, newest first; delete one or several
 * (the next Learn then starts from the model they were never taught), forget some but keep the model (SalUn: a new
 * version without them), or undo the last one.
 */
export class SamplesPanel implements ReactiveController {
  static styles = css`
    .samples { list-style: none; padding: 0; margin: 8px 0; display: grid; gap: 6px;
      grid-template-columns: repeat(auto-fill, minmax(92px, 1fr)); }
    .samples li { border: 1px solid var(--line); border-radius: 8px; padding: 4px; font-size: 12px; }
    .samples label { display: grid; grid-template-columns: auto 1fr; gap: 4px; align-items: center; min-height: 44px;
      cursor: pointer; }
    .samples img { width: 40px; height: 40px; image-rendering: pixelated; border-radius: 4px; background: #000; }
    .samples input { width: 20px; height: 20px; margin: 0; }
    .samples .aside { color: var(--muted); }
  `;
  /** The samples in IndexedDB, newest first. */
  list: Sample[] = [];
  /** The ids of the samples kept aside to test on. */
  private aside = new Set<number>();
  private selected = new Set<number>();
  private thumbs = new Map<number, string>();
  private loading: Promise<void> | null = null;

  constructor(private shell: Shell) {
    shell.addController(this);
  }

  /** The list follows the count of samples the model reads from IndexedDB (taught, deleted, forgotten). */
  hostUpdate(): void {
    const n = this.shell.status?.samples;
    if (n !== undefined && n !== this.list.length && !this.loading)
      this.loading = this.reload().finally(() => {
        this.loading = null;
      });
  }

  private async reload(): Promise<void> {
    const all = await this.shell.model.samples.all();
    const aside = heldOut(all);
    this.aside = new Set(all.filter((_, i) => aside.has(i)).map((s) => s.id!));
    this.list = all.reverse();
    const ids = new Set(this.list.map((s) => s.id!));
    for (const id of this.selected) if (!ids.has(id)) this.selected.delete(id);
    this.shell.requestUpdate();
  }

  private toggle(id: number, on: boolean): void {
    if (on) this.selected.add(id);
    else this.selected.delete(id);
    this.shell.requestUpdate();
  }

  /** Deletes the samples `ids` (asking first when there are several) and says what the next Learn does. */
  async delete(ids: number[]): Promise<void> {
    const { shell } = this;
    if (!ids.length) return;
    if (ids.length > 1 && !confirm(`Delete ${ids.length} samples?`)) return;
    const again = await shell.model.forgetSamples(ids);
    for (const id of ids) this.selected.delete(id);
    shell.status = { ...shell.model.status };
    shell.message =
      `deleted ${ids.length === 1 ? 'the sample' : `${ids.length} samples`}` +
      (again ? '; the next Learn starts again from the model they were never taught, without them' : '');
    await this.reload();
  }

  /**
   * Forgets the samples `ids` but keeps the model (SalUn on the network in use; see Personalizer.unlearnSamples):
   * a new version without them, and the accuracy on them before and after.
   */
  async unlearn(ids: number[]): Promise<void> {
    const { shell } = this;
    if (!ids.length) return;
    shell.message = `forgetting ${ids.length === 1 ? 'the sample' : `${ids.length} samples`}…`;
    const r = await shell.model.unlearnSamples(ids);
    for (const id of ids) this.selected.delete(id);
    const pct = (s: { correct: number; total: number }) => `${Math.round((100 * s.correct) / s.total)}%`;
    shell.message =
      `forgot ${ids.length === 1 ? 'the sample' : `${ids.length} samples`}: version ${r.version} gets ` +
      `${pct(r.after)} of them right (was ${pct(r.before)}); your other samples stay`;
    await shell.modelChanged();
    await this.reload();
  }

  render() {
    const { shell } = this;
    if (!this.list.length) return nothing;
    const sel = [...this.selected];
    const busy = shell.learning || shell.running.has('delete') || shell.running.has('unlearn');
    return html`
      <h2 class="sub">My samples</h2>
      <div class="row">
        <button id="undo-sample" ?disabled=${busy}
          @click=${(e: Event) => shell.act(e, 'delete', () => this.delete([this.list[0].id!]))}>Undo last sample (a ${
            this.list[0].label
          })</button>
        <button id="delete-samples" ?disabled=${busy || !sel.length}
          @click=${(e: Event) => shell.act(e, 'delete', () => this.delete(sel))}>Delete ${sel.length || ''} selected
        </button>
        <button id="forget-samples" ?disabled=${busy || !sel.length}
          title="the model unlearns them (SalUn) and keeps what your other samples taught it"
          @click=${(e: Event) => shell.act(e, 'unlearn', () => this.unlearn(sel))}>Forget these samples ${
            sel.length || ''
          }</button>
      </div>
      <ul class="samples" aria-label="my samples">${this.list.map((s) => {
        const id = s.id!;
        if (!this.thumbs.has(id)) this.thumbs.set(id, thumbnail(s.pixels));
        const when = new Date(s.at).toLocaleString();
        return html`<li data-id=${id}><label><input type="checkbox" .checked=${this.selected.has(id)}
          @change=${(e: Event) => this.toggle(id, (e.target as HTMLInputElement).checked)}
          aria-label=${`select the ${s.label} taught ${when}`}><img loading="lazy" decoding="async"
          src=${this.thumbs.get(id)!} alt=${`a ${s.label}`}><span><b>${s.label}</b><br>${when}${
            this.aside.has(id) ? html`<br><span class="aside">kept aside</span>` : nothing
          }</span></label></li>`;
      })}</ul>`;
  }
}
