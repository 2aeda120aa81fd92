/**
 * The entry point of a ThreadWorker's thread (started by src/workers/thread/thread-worker.ts).
 * It loads the library first, so the thread knows every command and codec the main thread
 * registered, starts the same tfjs backend, and then serves the worker (workers/thread/host.ts).
 * An entry point of its own, next to src/index.ts: the workers never import the library's top.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ready } from './index.js';
import { StateError } from './errors.js';
import { hostThread } from './workers/thread/host.js';
import type { ThreadInit } from './workers/thread/protocol.js';

if (parentPort === null) throw new StateError('src/thread-host.ts is the entry of a worker thread: start it with ThreadWorker.start()');
const init = workerData as ThreadInit;
await ready({ backend: init.backend });
hostThread(parentPort, init);
