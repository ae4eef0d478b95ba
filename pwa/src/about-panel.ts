import { html } from 'lit';
import type { Status } from './personalizer.js';

/** The About tab: which backend each worker runs and where the layers run. */
export function aboutPanel(status: Status | null) {
  return html`
    <p>${status?.source ?? 'loading…'}</p>
    <p>Workers: ${status?.backends.map(
      (b, i) => html`<span class="backend">worker ${i}: ${b}</span>${i + 1 < status.backends.length ? ', ' : ''}`,
    )}</p>
    <p>Where the layers run:</p><pre>${status?.plan ?? ''}</pre>
    <p>Learning is tpSGD on the last layer of a CNN shipped with the app (trained by backprop on MNIST); explanations
      run on the same workers. Samples and models stay in this browser's storage.</p>`;
}
