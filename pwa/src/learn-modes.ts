import type { RuleConfig } from '../../src/index.js';

/**
 * The three ways Learn can personalise (issue 16, item 5): which network it trains, with which rule, and how that
 * spreads over the workers. The figures each mode last gave on this device are kept in localStorage, so the
 * trade-offs table survives a reload.
 */
export type LearnMode = 'last-layer' | 'tpsgd-all' | 'noprop';

export interface ModeInfo {
  id: LearnMode;
  /** The chooser's label. */
  name: string;
  /** One line on what learns and where it runs. */
  what: string;
  /** The network it trains: the shipped backprop CNN (base/) or the shipped NoProp-DT model (base-noprop/). */
  family: 'cnn' | 'noprop';
}

export const MODES: readonly ModeInfo[] = [
  {
    id: 'last-layer',
    name: 'Last layer',
    what: "tpSGD trains only the CNN's output layer; the hidden layers stay as shipped (a pipeline over 2 workers)",
    family: 'cnn',
  },
  {
    id: 'tpsgd-all',
    name: 'tpSGD, every layer',
    what:
      'every layer of the CNN learns toward its own local target (a random projection of the label), no error ' +
      'travels back; the layers form a pipeline over 2 workers',
    family: 'cnn',
  },
  {
    id: 'noprop',
    name: 'NoProp-DT',
    what:
      'a NoProp-DT model (10 blocks, each learning to denoise the label on its own): the blocks are split over ' +
      '2 workers that train them at the same time, with nothing sent between the workers',
    family: 'noprop',
  },
];

/**
 * The mode Learn uses until the person chooses another: last-layer, because `npm run bench -- learn-modes` measured
 * it fastest and no worse on the held-out samples or the MNIST digits (see the README's app section).
 */
export const DEFAULT_MODE: LearnMode = 'last-layer';

/**
 * tpSGD's learning-rate scale of the CNN's hidden layers in the every-layer mode: the shipped CNN was trained by
 * backprop, and a local target pulls its features away from what the output layer reads, so the hidden layers learn
 * at a small share of the output layer's rate (a larger share cost MNIST accuracy: see the README).
 */
export const HIDDEN_LR_SCALE = 0.003;

export const modeInfo = (m: LearnMode): ModeInfo => MODES.find((i) => i.id === m) ?? MODES[0];
export const isMode = (m: unknown): m is LearnMode => MODES.some((i) => i.id === m);

/** Right answers out of how many. */
export interface Score {
  correct: number;
  total: number;
}

/** What one Learn in one mode measured on this device: what the trade-offs table and the About tab show. */
export interface LearnFigures {
  mode: LearnMode;
  /** Wall time of the training over the workers (scoring before and after not included). */
  seconds: number;
  /** After Learn: on the samples kept aside, and on the MNIST digits shipped with the app. */
  mine: Score;
  replay: Score;
  /** Where the layers or blocks ran (`formatPlan` of the run's plan). */
  plan: string;
  /** Payload bytes between workers (activations and labels), per sample trained, and pulled into the coordinator. */
  stageBytes: number;
  stageBytesPerSample: number;
  syncBytes: number;
  /** Samples trained, all epochs together. */
  samples: number;
  at: number;
}

const MODE_KEY = 'layerhive-app:learn-mode',
  FIGURES_KEY = 'layerhive-app:learn-figures';

/** The mode chosen on this device (the default until one is chosen). */
export function storedMode(): LearnMode {
  const m = localStorage.getItem(MODE_KEY);
  return isMode(m) ? m : DEFAULT_MODE;
}

export function storeMode(m: LearnMode): void {
  localStorage.setItem(MODE_KEY, m);
}

/** The last figures of each mode tried on this device. */
export function storedFigures(): Partial<Record<LearnMode, LearnFigures>> {
  try {
    const v = JSON.parse(localStorage.getItem(FIGURES_KEY) ?? '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

export function storeFigures(f: LearnFigures): void {
  localStorage.setItem(FIGURES_KEY, JSON.stringify({ ...storedFigures(), [f.mode]: f }));
}

/** The figures of the most recent Learn in any mode, or null. */
export function lastFigures(): LearnFigures | null {
  return (
    Object.values(storedFigures())
      .filter((f): f is LearnFigures => !!f)
      .sort((a, b) => b.at - a.at)[0] ?? null
  );
}

/** Forgets the chosen mode and the figures (Forget me). */
export function clearModes(): void {
  localStorage.removeItem(MODE_KEY);
  localStorage.removeItem(FIGURES_KEY);
}

/**
 * The rule config `mode` learns with, from the config of the checkpoint it starts from: the shipped CNN (a backprop
 * config) becomes tpSGD with the mode's hidden learning rate; a stored tpSGD config keeps its projections' stream;
 * a NoProp-DT config stays NoProp-DT with a learning rate for personalising.
 */
export function learnConfig(mode: LearnMode, from: RuleConfig): RuleConfig {
  if (mode === 'noprop') return { ...from, optimizer: { ...from.optimizer, lr: 1e-3 } };
  const hiddenLrScale = mode === 'tpsgd-all' ? HIDDEN_LR_SCALE : 0;
  if (from.rule === 'tpsgd') return { ...from, tpsgd: { ...from.tpsgd, hiddenLrScale } };
  return {
    ...from,
    rule: 'tpsgd',
    optimizer: { type: 'adam', lr: 5e-3 },
    tpsgd: { hiddenLrScale },
    streams: 'named', // a new config: its projections come from the named stream (stored ones keep theirs)
  };
}

/** The mode a stored version was learned in: its meta says so; older versions, by their config. */
export function modeOf(config: RuleConfig, meta: Record<string, unknown> = {}): LearnMode {
  if (isMode(meta.mode)) return meta.mode;
  if (config.rule.startsWith('noprop')) return 'noprop';
  return (config.tpsgd?.hiddenLrScale ?? 1) > 0 ? 'tpsgd-all' : 'last-layer';
}

export const familyOf = (config: RuleConfig): ModeInfo['family'] =>
  config.rule.startsWith('noprop') ? 'noprop' : 'cnn';
