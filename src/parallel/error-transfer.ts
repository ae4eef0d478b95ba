import * as Comlink from 'comlink';
import { LayerhiveError, type ErrorCode } from '../core/errors.js';

/** A LayerhiveError as it crosses a thread: everything but the stack's frames is kept. */
interface WireError {
  layerhive: true;
  code: ErrorCode;
  detail: string;
  hint: string;
  stage?: string;
  stack?: string;
}

const isWireError = (v: unknown): v is WireError =>
  typeof v === 'object' && v !== null && (v as { layerhive?: unknown }).layerhive === true;

let installed = false;

/**
 * Comlink's handler for thrown values, extended so that a LayerhiveError thrown in a stage worker reaches the caller
 * as a LayerhiveError with its code, detail and hint (comlink alone keeps only name, message and stack). Both sides
 * install it: the worker entry (serialising) and the pool (deserialising); other thrown values go through comlink's
 * own handler unchanged.
 */
export function carryTypedErrors(): void {
  if (installed) return;
  installed = true;
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<unknown, unknown>;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize(thrown: unknown) {
      const e = (thrown as { value: unknown }).value;
      if (!(e instanceof LayerhiveError)) return base.serialize(thrown);
      const wire: WireError = { layerhive: true, code: e.code, detail: e.detail, hint: e.hint, stack: e.stack };
      if (e.stage !== undefined) wire.stage = e.stage;
      return [{ isError: false, value: wire }, []];
    },
    deserialize(serialized: unknown) {
      const v = (serialized as { value?: unknown }).value;
      if (!isWireError(v)) return base.deserialize(serialized);
      const e = new LayerhiveError(v.code, v.detail, v.hint, v.stage);
      if (v.stack) e.stack = v.stack;
      throw e;
    },
  } satisfies Comlink.TransferHandler<unknown, unknown>);
}
