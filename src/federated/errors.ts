import { type ErrorCode, LayerhiveError } from '../core/errors.js';

/** What went wrong in a federation, for a caller that decides whether to retry, skip a round or stop. */
export type FederatedFault =
  /** The SuperLink could not be reached (refused, reset, DNS): retried with backoff. */
  | 'unreachable'
  /** The SuperLink answered with an HTTP error status. */
  | 'http'
  /** A body or object that is not what Flower's protocol says (bad protobuf, bad object head, wrong hash). */
  | 'malformed'
  /** A body or object larger than the client accepts. */
  | 'oversized'
  /** Global arrays whose names, dtypes or shapes do not fit the local model (the model is left untouched). */
  | 'shape'
  /** The SuperLink refused what was sent (object not stored, node unknown). */
  | 'refused';

const codes: Record<FederatedFault, ErrorCode> = {
  unreachable: 'NOT_FOUND',
  http: 'INVALID_ARGUMENT',
  malformed: 'DATA_INVALID',
  oversized: 'QUOTA_EXCEEDED',
  shape: 'SHAPE_MISMATCH',
  refused: 'INVALID_ARGUMENT',
};

export class FederatedError extends LayerhiveError {
  readonly fault: FederatedFault;
  /** The HTTP status, for 'http'. */
  readonly status?: number;
  constructor(fault: FederatedFault, message: string, hint: string, status?: number) {
    super(codes[fault], message, hint);
    this.name = 'FederatedError';
    this.fault = fault;
    if (status !== undefined) this.status = status;
  }
}
