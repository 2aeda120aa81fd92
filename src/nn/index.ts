export { Module } from './module.js';
export { Linear } from './linear.js';
export { ReLU, Sigmoid, Tanh, Flatten } from './activations.js';
export { Sequential } from './sequential.js';
export { mseLoss, crossEntropy, type Reduction } from './losses.js';
