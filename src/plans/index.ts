/**
 * Plans and protocols: a step traced once into a list of allow-listed commands and run with one
 * message per worker (PySyft 0.2's Part 8 and 8 bis).
 */
export { Plan, type PlanOptions, type PlanOutput } from './plan.js';
export { PlanState } from './plan-state.js';
export { func2plan } from './func2plan.js';
export { PointerPlan } from './pointer-plan.js';
export { PlanError } from './errors.js';
export { PLAN_LIMITS } from './plan-ops.js';
export { Protocol, type ProtocolWorker } from './protocol.js';
