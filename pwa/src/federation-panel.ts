import { css, html, nothing } from 'lit';
import { Federation, type FederationPayload, type FederationPhase, offeredFederation } from './federation.js';
import type { Shell } from './shell.js';

const kB = (b: number) => `${(b / 1000).toFixed(0)} kB`;
const percent = (a: number | undefined) => (a === undefined || Number.isNaN(a) ? '–' : `${(100 * a).toFixed(0)}%`);

const PHASE: Record<FederationPhase, string> = {
  off: '',
  joining: 'connecting to the server…',
  waiting: 'joined: waiting for the next round (rounds are taken while this app is open)',
  training: 'a round is running: training on your samples here…',
  offline: 'waiting for the server (it does not answer now: this device tries again, a missed round is fine)',
  failed: 'the federation stopped',
};

/**
 * "Join a federation", in My model (rendered by ModelPanel): opt-in — nothing is sent until Join is pressed — with
 * the server shown (as this app's server reports it) and what a round sends; then each round's figures, and Leave.
 */
export class FederationPanel {
  static styles = css`
    .federation table :is(td, th):nth-child(n + 2) { text-align: right; }
    .federation .why { color: var(--muted); font-size: 13px; }
  `;
  /** What this app's server offers: a SuperLink, none (null), unknown while offline, or not asked yet (undefined). */
  private offer: { server: string } | null | 'unreachable' | undefined;
  private payload: FederationPayload | null = null;
  private made: Federation | null = null;
  /** The version the panel last told the shell about. */
  private shown: number | null = null;

  constructor(private shell: Shell) {}

  /** Made on first use: the panels are made before the shell has its model. */
  private get federation(): Federation {
    this.made ??= new Federation(this.shell.model, this.shell.base, () => {
      // a round's model was saved (and may be in use): the status and the versions table follow
      if (this.made?.version !== this.shown) {
        this.shown = this.made?.version ?? null;
        void this.shell.modelChanged();
      }
      this.shell.requestUpdate();
    });
    return this.made;
  }

  /**
   * Asks this app's own server, once per page, whether it offers a federation (a GET of flower/; nothing else
   * happens: Learn and explain stay without requests), and what a round would send of the network in use.
   */
  async refresh(): Promise<void> {
    // once: a refresh follows every Learn, which must ask nothing of the network (offline either)
    if (this.offer === undefined) this.offer = await offeredFederation(this.shell.base);
    this.payload =
      typeof this.offer === 'object' && this.offer && this.shell.status ? await this.federation.payload() : null;
    this.shell.requestUpdate();
  }

  /** Asks this app's server again (after it could not be reached); joins nothing. */
  private async ask(): Promise<void> {
    this.offer = await offeredFederation(this.shell.base);
    await this.refresh();
  }

  /** Joins the federation shown: asked again first, so that it is the server the person saw. */
  private async join(): Promise<void> {
    const shown = typeof this.offer === 'object' ? this.offer?.server : undefined;
    const offer = await offeredFederation(this.shell.base);
    this.offer = offer;
    if (typeof offer !== 'object' || !offer) {
      this.shell.message = offer ? "this app's server cannot be reached now" : "this app's server offers no federation";
      return;
    }
    if (offer.server !== shown) {
      this.shell.message = 'the federation offered has changed: check its server, then press Join again';
      return;
    }
    try {
      await this.federation.join(offer.server);
      this.shell.message = `joined the federation at ${offer.server}`;
    } catch (e) {
      this.shell.message = `could not join: ${(e as Error).message}`;
    }
  }

  /** Leaves the federation if joined (Forget me: nothing is trained on deleted samples afterwards). */
  async stop(): Promise<void> {
    if (this.made?.joined) await this.made.leave();
  }

  private async leave(): Promise<void> {
    await this.federation.leave();
    this.shell.message = 'left the federation; its model stays as a version of its own';
    await this.shell.modelChanged();
  }

  render() {
    const { shell, federation: f, payload: p } = this;
    const offer = this.offer;
    if (offer === undefined) return nothing;
    if (offer === null && !f.joined)
      return html`<div class="federation"><h2 class="sub">Join a federation</h2>
        <p class="why">This app's server offers no federation (it was started without --flower).</p></div>`;
    if (offer === 'unreachable' && !f.joined)
      return html`<div class="federation"><h2 class="sub">Join a federation</h2>
        <p class="why">This app's server could not be reached (offline?), so whether it offers a federation is not
          known yet.</p>
        <div class="row"><button id="ask-federation" ?disabled=${shell.running.has('ask')}
          @click=${(e: Event) => shell.act(e, 'ask', () => this.ask())}>Ask again</button></div></div>`;
    const server = f.joined ? f.server : typeof offer === 'object' ? (offer?.server ?? '') : '';
    return html`<div class="federation"><h2 class="sub">Join a federation</h2>
      <p>Learn together with other devices through the Flower server at <b id="federation-server">${server}</b>
        (reached through this app's own server). In each round this device trains the model on your samples here and
        sends back only its weights —
        <span id="federation-sends">${p ? `${p.weights.toLocaleString('en')} weights, at most ${kB(p.bytes)}` : '…'}
        per round</span> (the server asks only for the arrays it does not hold already) — and three numbers (how many
        samples, loss, accuracy). Your drawings never leave this device. Each round's model is saved as a version of
        its own and used; your personalised versions stay, and "Use this" goes back to one.</p>
      <div class="row">${
        f.joined
          ? html`<button id="leave-federation" ?disabled=${shell.running.has('leave')}
              @click=${(e: Event) => shell.act(e, 'leave', () => this.leave())}>Leave</button>`
          : html`<button id="join-federation" ?disabled=${shell.running.has('join') || !shell.status}
              @click=${(e: Event) => shell.act(e, 'join', () => this.join())}>Join a federation</button>`
      }</div>
      <p id="federation-status" role="status">${PHASE[f.phase]}${
        f.note ? html` <span class="why">(${f.note})</span>` : ''
      }</p>
      ${
        f.rounds.length
          ? html`<table class="federation-rounds"><tr><th>round</th><th>after training here</th>
              <th>the round's model</th><th>sent</th><th>received</th></tr>
            ${f.rounds.map(
              (r) => html`<tr data-round=${r.round}><td>${r.round}</td>
                <td title=${r.error ?? ''}>${r.error ? 'refused' : percent(r.localAccuracy)}</td>
                <td>${percent(r.globalAccuracy)}</td><td class="sent" data-bytes=${r.sent}>${kB(r.sent)}</td>
                <td class="received" data-bytes=${r.received}>${kB(r.received)}</td></tr>`,
            )}</table>
            <p class="why">Accuracy on your samples kept aside (never trained on), or on all of them while none
              are.</p>`
          : nothing
      }</div>`;
  }
}
