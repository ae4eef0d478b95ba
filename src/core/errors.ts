/** Every failure layerhive raises on purpose carries a stable code and a hint that tells the user what to do. */
export type ErrorCode =
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'NON_FINITE'
  | 'KERNEL_NOT_FOUND'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_MISMATCH'
  | 'TENSOR_DISPOSED'
  | 'SPEC_INVALID'
  | 'DATA_INVALID'
  | 'WORKER_FAILED'
  | 'DEVICE_LOST'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'NOT_FOUND'
  | 'CHECKSUM_MISMATCH'
  | 'QUOTA_EXCEEDED';

export class LayerhiveError extends Error {
  readonly code: ErrorCode;
  /** What went wrong, without the hint (`message` is both). */
  readonly detail: string;
  readonly hint: string;
  /** The stage worker it was raised in ('stage 1 (block3, block4)'), when it crossed from one. */
  readonly stage?: string;
  constructor(code: ErrorCode, message: string, hint: string, stage?: string) {
    super(`${message} — ${hint}`);
    this.name = 'LayerhiveError';
    this.code = code;
    this.detail = message;
    this.hint = hint;
    if (stage !== undefined) this.stage = stage;
  }
}

export function fail(code: ErrorCode, message: string, hint: string): never {
  throw new LayerhiveError(code, message, hint);
}
