/**
 * Errors of the WebSocket transport that src/errors.ts has no class for.
 */
import { SyftError } from '../../errors.js';

/**
 * A worker refused to do something with an object it is not allowed to: fetch, move, delete or
 * change data its owner published with `publish()`. Compute on such data by pointer instead.
 */
export class PermissionError extends SyftError {}
