/**
 * Worker-thread entry for {@link NoiseAhead} (noise-ahead.ts): draws exact discrete Gaussian
 * samples from this thread's own CSPRNG and hands each array over (transferred, so no copy of it
 * stays here). Loaded by noise-ahead.ts; never imported by library code.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import { DiscreteGaussianSampler } from './discrete-gaussian.js';

interface Request {
  readonly sigma: number;
  readonly count: number;
}

if (parentPort === null) throw new Error('noise-thread.ts must run in a worker thread');

parentPort.once('message', ({ port }: { port: MessagePort }) => {
  port.on('message', ({ sigma, count }: Request) => {
    const z = new DiscreteGaussianSampler(sigma).sample(count);
    port.postMessage({ sigma, count, z }, [z.buffer as ArrayBuffer]);
  });
});
