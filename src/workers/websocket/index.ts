/**
 * Workers as network services, in Node: a {@link WebsocketServerWorker} serves a worker over
 * WebSockets (`npx syft-ts worker ...`), a {@link WebsocketClientWorker} reaches one from another
 * process, a {@link Coordinator} takes in workers that dial it ({@link OutboundWorker}: pages,
 * hosts behind NAT). This barrel is Node's: it plugs the `ws` package in as the way to dial.
 * Pages get the portable part through the browser entry (src/browser.ts).
 */
import { useNodeDial } from './dial.js';
import { dialNode } from './node-socket.js';

useNodeDial(dialNode);

export { WebsocketServerWorker, type WebsocketServerWorkerOptions } from './server.js';
export type { Traffic, WorkerTraffic, WorkerStats } from './traffic.js';
export { WebsocketClientWorker, type WebsocketClientOptions, type ClientEvents } from './client.js';
export { Coordinator, type CoordinatorOptions, type RelayTraffic } from './coordinator.js';
export { DEFAULT_COORDINATOR_LIMITS, type CoordinatorLimits } from './coordinator-limits.js';
export { OutboundWorker, type OutboundWorkerOptions } from './outbound.js';
export { DEFAULT_WORKER_NODE_ARGS, startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from './process.js';
export { readTokenFile } from './token-file.js';
export { ClientIdentities } from './identities.js';
export type { AdmissionLimits } from './admission.js';
export type { SessionLimits } from './sessions.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './protocol.js';
export { PermissionError } from './errors.js';
