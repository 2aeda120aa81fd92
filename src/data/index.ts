/**
 * Data: datasets (local or on workers), federated datasets, loaders and transforms.
 */
export { BaseDataset, federate, type DatasetOptions, type Sample } from './dataset.js';
export { FederatedDataset } from './federated-dataset.js';
export { DataLoader, type DataLoaderOptions } from './dataloader.js';
export { FederatedDataLoader, type FederatedDataLoaderOptions, type FederatedStep, type WorkerBatches } from './federated-dataloader.js';
export type { Transform } from './transforms.js';
export type { LoaderOptions } from './sampler.js';
