/**
 * The error plans and protocols raise when they are misused (sending a plan that was never built,
 * calling one with arguments it was not built for) or when a plan's data is refused by a worker.
 */
import { SyftError } from '../errors.js';

/** A plan or protocol used in a way it cannot serve; the message says what to do instead. */
export class PlanError extends SyftError {
  override name = 'PlanError';
}
