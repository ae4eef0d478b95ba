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
  | 'TIMEOUT'
  | 'ABORTED'
  | 'NOT_FOUND'
  | 'CHECKSUM_MISMATCH'
  | 'QUOTA_EXCEEDED';

export class LayerhiveError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  constructor(code: ErrorCode, message: string, hint: string) {
    super(`${message} — ${hint}`);
    this.name = 'LayerhiveError';
    this.code = code;
    this.hint = hint;
  }
}

export function fail(code: ErrorCode, message: string, hint: string): never {
  throw new LayerhiveError(code, message, hint);
}
