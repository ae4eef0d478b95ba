import type { ReactiveControllerHost } from 'lit';
import type { Personalizer, Status } from './personalizer.js';

/**
 * What the app's panels (one per tab, each a reactive controller of the app element) share: the model, the drawing
 * on the pad and the line of messages under it. The app element is the one implementation; panels know only this.
 */
export interface Shell extends ReactiveControllerHost {
  readonly model: Personalizer;
  /** The model's status as last read (null while loading). */
  status: Status | null;
  /** The line under the pad: what was just done, or why not. */
  message: string;
  /** The drawing on the pad as MNIST pixels, or null when there is none. */
  readonly shown: Uint8Array | null;
  /** The class probabilities of the drawing, or null. */
  readonly probs: Float64Array | null;
  /** True while Learn runs: the model changes under the other panels. */
  readonly learning: boolean;
  /** The app URL's folder (base model, digits). */
  readonly base: URL;
  readonly renderRoot: HTMLElement | DocumentFragment;
  /** The actions now running, by name. */
  readonly running: ReadonlySet<string>;
  /** Runs `work` once per click (a double-click's second click, or a click while `name` runs, does nothing). */
  act(e: Event | undefined, name: string, work: () => Promise<void>): Promise<void>;
  /** Empties the pad (and forgets its prediction and explanation). */
  clearPad(): void;
  /** The status re-read from the model, and the panels told the model may have changed. */
  modelChanged(): Promise<void>;
}
