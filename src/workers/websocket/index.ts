/**
 * Workers as network services: a {@link WebsocketServerWorker} serves a worker over WebSockets
 * (`npx syft-ts worker ...`), a {@link WebsocketClientWorker} reaches one from another process.
 */
export { WebsocketServerWorker, type WebsocketServerWorkerOptions } from './server.js';
export type { Traffic, WorkerTraffic, WorkerStats } from './traffic.js';
export { WebsocketClientWorker, type WebsocketClientOptions, type ClientEvents } from './client.js';
export { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from './process.js';
export { readTokenFile } from './auth.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './protocol.js';
export { PermissionError } from './errors.js';
