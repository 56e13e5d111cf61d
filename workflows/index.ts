// The workflow bundle's entry point: every workflow type a worker registers.
export { sweepWorkflow } from './sweep.js';
