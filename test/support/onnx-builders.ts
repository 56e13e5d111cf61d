export * from '../../core/compute/onnx/builders.js';
