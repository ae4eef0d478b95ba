import { html, nothing } from 'lit';
import { modeInfo, type LearnFigures } from './learn-modes.js';
import type { PageThreads, Status } from './personalizer.js';

const bytes = (b: number) =>
  b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b.toFixed(0)} B`;

/** What moved in the last Learn: where its layers or blocks ran, and the bytes between the workers. */
function lastLearn(f: LearnFigures) {
  const independent = f.mode === 'noprop';
  return html`<h3>The last Learn (${modeInfo(f.mode).name}, ${new Date(f.at).toLocaleString()})</h3>
    <p>Where its ${independent ? 'blocks' : 'layers'} ran:</p><pre class="learn-plan">${f.plan}</pre>
    <table class="bytes">
      <tr><td>bytes between the workers</td><td class="stage-bytes">${bytes(f.stageBytes)}</td></tr>
      <tr><td>per sample trained</td><td class="stage-bytes-per-sample">${bytes(f.stageBytesPerSample)}</td></tr>
      <tr><td>state pulled into this page (syncs, the restart point if a worker fails)</td>
        <td class="sync-bytes">${bytes(f.syncBytes)}</td></tr>
      <tr><td>samples trained</td><td>${f.samples}</td></tr>
      <tr><td>time on the workers</td><td>${f.seconds.toFixed(1)} s</td></tr>
    </table>
    <p class="bytes-why">${
      independent
        ? 'NoProp-DT: each worker trains its own blocks on the same batches, so nothing moves between the workers by ' +
          'design (0 bytes); only the syncs pull each block\u2019s weights into this page.'
        : 'tpSGD: a forward pipeline \u2014 the first worker\u2019s layers send their output (and the labels) to the ' +
          'next for every sample; no error travels back.'
    }</p>`;
}

/** One line on the threads each kernel call of this page (its predictions) runs on, or why it runs on one. */
function pageThreads(t: PageThreads): string {
  const cores = `${t.cores} ${t.cores === 1 ? 'core' : 'cores'}`;
  const shared = t.isolated ? 'crossOriginIsolated' : 'shared memory';
  if (t.inUse > 1) return `Threads: ${t.inUse} per kernel call on this page (${shared}, ${cores})`;
  return t.note ? `Threads: one \u2014 ${t.note}` : `Threads: one per kernel call on this page (${cores})`;
}

const threadCount = (n: number | undefined) => (n === undefined ? '' : ` (${n} ${n === 1 ? 'thread' : 'threads'})`);

/** The About tab: which backend each worker runs, where the layers run, and what moved in the last Learn. */
export function aboutPanel(status: Status | null) {
  const mode = status ? modeInfo(status.mode) : null;
  return html`
    <p>${status?.source ?? 'loading…'}</p>
    ${status ? html`<p class="threads">${pageThreads(status.threads)}</p>` : nothing}
    <p>Workers: ${status?.backends.map(
      (b, i) =>
        html`<span class="backend">worker ${i}: ${b}</span><span class="worker-threads">${threadCount(
          status.workerThreads[i],
        )}</span>${i + 1 < status.backends.length ? ', ' : ''}`,
    )}</p>
    <p>Where the layers run:</p><pre class="plan">${status?.plan ?? ''}</pre>
    ${
      mode
        ? html`<p>Learn: ${mode.name} \u2014 ${mode.what}.${
            status?.gradients === false
              ? ' Gradient explanations (integrated gradients, SmoothGrad, saliency, Grad-CAM) are not available for ' +
                'this model: use occlusion, KernelSHAP or LIME.'
              : ''
          }</p>`
        : nothing
    }
    ${status?.lastLearn ? lastLearn(status.lastLearn) : html`<p class="no-learn">No Learn on this device yet.</p>`}
    <p>Explanations run on the same workers. Samples and models stay in this browser's storage.</p>`;
}
