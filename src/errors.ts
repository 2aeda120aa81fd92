/**
 * Typed errors. Every error syft-ts throws on purpose extends {@link SyftError}, so callers can
 * catch the library's failures apart from their own, and every message says what to do next.
 *
 * @example
 * ```ts
 * try { await p.get(); } catch (e) {
 *   if (e instanceof sy.RemoteError) console.error(e.workerId, e.op, e.remoteMessage);
 * }
 * ```
 */
export class SyftError extends Error {
  constructor(message: string) {
    super(message);
    // Names travel in remote errors and minifiers rename classes, so each of the library's error
    // classes states its name as a field (which runs after this); a user's subclass keeps its own.
    this.name = new.target === SyftError ? 'SyftError' : new.target.name;
  }
}

/** An operation the receiving layer cannot perform (for example `exp` on shared values). */
export class UnsupportedOperationError extends SyftError {
  override name = 'UnsupportedOperationError';
}

/** Shapes that do not fit together (broadcasting, matmul, reshape). */
export class ShapeError extends SyftError {
  override name = 'ShapeError';
}

/** A value or argument of the wrong kind: a float where an integer is needed, NaN, a bad option. */
export class ValueError extends SyftError {
  override name = 'ValueError';
}

/** Something used before `await sy.ready()`, or after it was disposed. */
export class StateError extends SyftError {
  override name = 'StateError';
}

/** A message or object that does not decode, or fails validation. Nothing was changed. */
export class WireFormatError extends SyftError {
  override name = 'WireFormatError';
}

/** An object id that the worker does not hold. */
export class ObjectNotFoundError extends SyftError {
  override name = 'ObjectNotFoundError';
  constructor(
    readonly workerId: string,
    readonly objectId: number,
  ) {
    super(
      `worker '${workerId}' holds no object ${objectId}: it was never sent there, was already ` +
        `retrieved with get(), or was freed (clearObjects(), dispose(), or the end of a sy.tidy scope)`,
    );
  }
}

/**
 * An operation that failed on a worker. Raised where the caller waits (`await p.get()`), carrying
 * the worker, the operation and the worker's own message.
 */
export class RemoteError extends SyftError {
  override name = 'RemoteError';
  constructor(
    readonly workerId: string,
    readonly op: string,
    readonly remoteName: string,
    readonly remoteMessage: string,
  ) {
    super(`worker '${workerId}' failed to run '${op}': ${remoteName}: ${remoteMessage}`);
  }
}

/** A protocol step that did not complete: a peer left, or a message did not arrive in time. */
export class ProtocolError extends SyftError {
  override name = 'ProtocolError';
}

/** A request that got no answer within its timeout. */
export class TimeoutError extends SyftError {
  override name = 'TimeoutError';
}

/** A connection refused for a missing or wrong token, or a peer that is not who it says. */
export class AuthenticationError extends SyftError {
  override name = 'AuthenticationError';
}

/**
 * Refused because it would reveal, in the clear, a value its holder shared to keep it private
 * (for example `get()` straight after `share()` of a worker's tensor, as PySyft's Part 10 spells
 * it). The message says what to call instead.
 */
export class PrivacyError extends SyftError {
  override name = 'PrivacyError';
}

/**
 * A worker refused to do something with an object its sender may not touch: data its owner
 * published (compute on it by pointer), a private key that never leaves the worker, or another
 * identity's object that was not shared with the sender.
 */
export class PermissionError extends SyftError {
  override name = 'PermissionError';
}

/**
 * A request that would pass one of a worker's limits (objects or bytes a session may hold, the
 * elements an op may allocate, the work one command may cost). `limit` names the option that
 * sets it and `value` its current setting; nothing was changed.
 *
 * @example
 * ```ts
 * try { await x.get(); } catch (e) { if (e instanceof sy.RemoteError && e.remoteName === 'QuotaError') ... }
 * ```
 */
export class QuotaError extends SyftError {
  override name = 'QuotaError';
  constructor(
    message: string,
    readonly limit: string = '',
    readonly value: number = 0,
  ) {
    super(message);
  }
}
