/**
 * `sy.datasets`: real data shipped with the package (nothing is downloaded at run time).
 */
export {
  mnist,
  loadMnist,
  oneHot,
  MNIST_TOTAL,
  MNIST_TRAIN_SIZE,
  MNIST_TEST_SIZE,
  MNIST_MEAN,
  MNIST_STD,
  IMAGE_SIZE,
  type MnistOptions,
  type MnistSplit,
} from './mnist.js';
export { batches, type Batch } from './batches.js';
