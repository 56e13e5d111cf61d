export * from './circuits.js';
export * from './hungarian.js';
export * from './layers.js';
export * from './neuron.js';
export * from './overlap.js';
export * from './rows.js';
export * from './verdict.js';
