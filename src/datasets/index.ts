export { loadMnist, oneHot, MNIST_TOTAL, IMAGE_SIZE, type MnistSplit } from './mnist.js';
export { batches, type Batch } from './batches.js';
