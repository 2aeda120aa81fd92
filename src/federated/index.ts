/**
 * Federated learning: FedAvg over workers, with updates in the clear or encrypted with Paillier.
 *
 * @example
 * ```ts
 * const keys = await sy.federated.SharedKeyPair.generate(workers, { bits: 2048 });
 * const manager = new sy.federated.PaillierGradientManager(keys);
 * const clients = workers.map((worker, i) => manager.attach(new sy.federated.FedAvgClient({ worker, model, batches: splits[i] })));
 * const server = new sy.federated.FedAvgServer({ worker: serverWorker, clients });
 * const report = await server.round();
 * ```
 */
export { FedAvgClient, FedAvgServer, plaintextUpdates, settled } from './fedavg.js';
export { federatedAvg } from './federated-avg.js';
export type { ClientBatch, FedAvgClientOptions, FedAvgServerOptions, RoundReport, UpdateProtection } from './fedavg.js';
export { PaillierGradientManager, SharedKeyPair } from './paillier-client.js';
export type { PaillierGradientOptions } from './paillier-client.js';
