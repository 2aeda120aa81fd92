/**
 * syft-ts: privacy-preserving deep learning in TypeScript, with PySyft's layered tensors.
 *
 * @example
 * ```ts
 * import * as sy from 'syft-ts';
 * await sy.ready();
 * const bob = new sy.VirtualWorker({ id: 'bob' });
 * const x = sy.tensor([1, 2, 3]).send(bob);
 * console.log((await x.add(x).get()).toString());   // tensor([2., 4., 6.])
 * ```
 *
 * @packageDocumentation
 */
// Registers the operations workers may run, the objects that may travel and the randomness a
// crypto provider deals (allow-lists filled here, from one explicit list — never from a message).
import { registerAll } from './registry.js';

registerAll();

export * from './api.js';

// What only Node can run: listening workers, worker processes, threads.
export { ThreadWorker, type ThreadWorkerOptions } from './workers/thread/thread-worker.js';
// Node's WebSocket transport (importing it plugs the ws package in as the way to dial).
export {
  WebsocketServerWorker,
  startWorkerProcess,
  DEFAULT_WORKER_NODE_ARGS,
  readTokenFile,
  type WebsocketServerWorkerOptions,
  type WorkerProcess,
  type WorkerProcessOptions,
  Coordinator,
  type CoordinatorOptions,
  type RelayTraffic,
  DEFAULT_COORDINATOR_LIMITS,
  type CoordinatorLimits,
  ClientIdentities,
  type AdmissionLimits,
  type SessionLimits,
} from './workers/websocket/index.js';
