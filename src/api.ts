/**
 * The API both entries share: everything of syft-ts that runs in Node and in a page alike. The
 * Node entry (src/index.ts) adds listening servers, worker processes and threads; the browser
 * entry (src/browser.ts) adds nothing and plugs in the page's WebSocket. Add a public name here
 * unless it can only run in Node. No side effects: each entry registers the allow-lists itself.
 */
export { ready, type ReadyInfo, type ReadyOptions, type BackendName, type WasmFile } from './backend.js';
export { Tensor, type TensorArg, type ShareOptions } from './tensor.js';
export { tensor, full, zeros, ones, randn, rand, type TensorOptions, type DType, type NestedData } from './factory.js';
export { tidy, keep } from './tensors/scope.js';
export { config, type Config } from './config.js';
export { noGrad } from './tensors/autograd.js';
export { manualSeed } from './util/seeded.js';

export { AbstractTensor, type Operand, type Dims } from './layer/abstract.js';
export { FloatTensor } from './tensors/float.js';
export { AutogradTensor } from './tensors/autograd.js';
export { PointerTensor } from './tensors/pointer.js';
export { GradFunc } from './tensors/gradients.js';
export { FixedPrecisionTensor, type PrecisionOptions } from './tensors/fixed-precision.js';
export { AdditiveSharingTensor } from './tensors/additive-sharing.js';
export { PaillierTensor, type PaillierEncryptOptions } from './tensors/paillier.js';

export { Worker, type RemoteWorker, type WorkerOptions, type Sender } from './workers/worker.js';
export { DEFAULT_LIMITS, type WorkerLimits } from './workers/limits.js';
export { VirtualWorker, type VirtualWorkerOptions } from './workers/virtual.js';
export { local } from './workers/local.js';
export { WebsocketClientWorker, type WebsocketClientOptions, type ClientEvents } from './workers/websocket/client.js';
export { OutboundWorker, type OutboundWorkerOptions } from './workers/websocket/outbound.js';
export type { Traffic, WorkerTraffic, WorkerStats } from './workers/websocket/traffic.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './workers/websocket/protocol.js';
export { PermissionError } from './workers/websocket/errors.js';
export { encodeMessage, decodeMessage } from './workers/serde.js';
export type { Message, WireValue, WireNode, ObjectId } from './workers/messages.js';
export type { PostMessage, RequestMessage, ReplyMessage, WireError } from './workers/messages.js';
export type { Shape } from './shapes.js';
export type { Pem, Dial, DialOptions, FrameSocket } from './workers/websocket/socket.js';
export type { SearchQuery } from './workers/search.js';
export type { Pair } from './layer/window.js';
export type { Releasable } from './tensors/scope.js';

export * from './errors.js';
export { FixedPointOverflowError } from './ring/errors.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as ring from './ring/index.js';
export * as datasets from './data/datasets.js';
export * as transforms from './data/transforms.js';
export {
  BaseDataset,
  FederatedDataset,
  DataLoader,
  FederatedDataLoader,
  federate,
  type DatasetOptions,
  type Sample,
  type DataLoaderOptions,
  type FederatedDataLoaderOptions,
  type FederatedStep,
  type WorkerBatches,
  type Transform,
  type LoaderOptions,
} from './data/index.js';
export * as paillier from './he/index.js';
export * as federated from './federated/index.js';
export * as utils from './util/index.js';
export * as dp from './dp/index.js';
export { Plan, PlanState, PointerPlan, PlanError, Protocol, func2plan, type PlanOptions, type PlanOutput, type ProtocolWorker } from './plans/index.js';
export * as mpc from './plans/offline.js';
