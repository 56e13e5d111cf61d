export * from '../../core/onnx/builders.js';
