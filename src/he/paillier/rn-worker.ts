/**
 * Worker-thread entry: receives {@link Job}s from the thread pool and answers with the results.
 * Loaded by threads.ts; never imported by library code.
 */
import { parentPort } from 'node:worker_threads';
import { executeJob } from './jobs.js';
import type { Job } from './jobs.js';

interface Request {
  readonly id: number;
  readonly job: Job;
}

const port = parentPort;
if (port === null) throw new Error('rn-worker.ts must run in a worker thread');

port.on('message', (request: Request) => {
  try {
    port.postMessage({ id: request.id, values: executeJob(request.job) });
  } catch (e) {
    port.postMessage({ id: request.id, error: e instanceof Error ? e.message : String(e) });
  }
});
