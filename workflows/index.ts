// The workflow bundle's entry point: every workflow type a worker registers.
export { assignWorkflow } from './assign.js';
export { layerWorkflow } from './layer.js';
export { referencesWorkflow } from './references.js';
export { scheduledSweepWorkflow } from './scheduled.js';
export { sweepWorkflow } from './sweep.js';
