/** A pipeline stage's share of a run: segments [first, end) of the rule's chain, for `lrs.length` steps. */
export interface PipelineRequest {
  first: number;
  end: number;
  /** The learning rate of each step of this run (its length is the number of steps). */
  lrs: number[];
  /** GPipe: micro-batches per batch; a forward pipeline passes whole batches. */
  microBatches: number;
}
