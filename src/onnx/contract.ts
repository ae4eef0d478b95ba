import type { Normalization } from '../data/batches.js';

/**
 * What an exported model takes and gives, written in its `metadata_props` so that a user of any runtime (and
 * layerhive's importer) need not guess: a graph alone says neither that its input is normalised nor how.
 */
export interface ModelContract {
  /** The contract's own format (the `layerhive_contract` key); this reader knows 1. */
  format: 1;
  /** layerhive's version that wrote the file (package.json's). */
  layerhiveVersion: string;
  /** The learning rule that trained the network ('backprop', 'tpsgd', 'noprop-dt', …); null for a bare network. */
  rule: string | null;
  input: {
    /** The graph input's name (from the graph; 'input' when read from metadata alone). */
    name: string;
    /** 'NCHW' for images [N, C, H, W], 'NC' for vectors [N, C]; otherwise N and the dimension count. */
    layout: string;
    /**
     * What to feed: 'pixels' — v / 255 in [0, 1], the graph normalises; 'normalized' — (v / 255 − mean) / std,
     * the caller normalises (how layerhive's own batches look); 'unknown' — a bare network whose data is not known.
     */
    kind: 'pixels' | 'normalized' | 'unknown';
    /** The interval the input's values are meant to lie in; null when unknown. */
    range: [number, number] | null;
    /** The normalisation the network was trained with, and who applies it; null when unknown. */
    normalization: (Normalization & { appliedBy: 'graph' | 'caller' }) | null;
  };
  output: {
    name: string;
    /** Class names in output order; null when the output is not class scores (a truncated network). */
    classNames: string[] | null;
  };
  /** NoProp-DT: the graph's second input, z_0 of its denoising chain. */
  noise: {
    name: string;
    /** What the input means, in words. */
    meaning: string;
    /** The row layerhive's own `predict` uses on every row of a batch (`rule.initialNoise`), [d]. */
    z0: number[];
  } | null;
}

/** The keys written into `metadata_props`; `layerhive_contract` marks a file as carrying a contract at all. */
export const CONTRACT_KEYS = {
  format: 'layerhive_contract',
  version: 'layerhive_version',
  rule: 'training_rule',
  layout: 'input_layout',
  kind: 'input_kind',
  range: 'input_range',
  normalization: 'input_normalization',
  classNames: 'class_names',
  noise: 'noise_input',
  noiseZ0: 'noise_z0',
} as const;
