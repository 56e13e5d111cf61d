import { createHash } from 'node:crypto';
import { type NeuronRange, resultIdentity, type SweepConfig } from '../run/config.js';
import type { CountChoice } from './selection.js';

/**
 * Everything `pure assign` needs, fixed when it starts and stored as `<assign>/config.json`: every
 * activity on every worker works from the same values. URIs, names and numbers only (it travels in
 * Temporal payloads).
 */
export interface AssignConfig {
  /** Names the output folder and the workflow: a hash of the options that change results. */
  assignId: string;
  /** The finished run, `<out>/<run>`: its config.json and tables are read from here. */
  runUri: string;
  /** The run's stored configuration: model, digest, preprocessing, layers, neuron batches. */
  run: SweepConfig;
  /** Folder or s3:// prefix of the new images (flat or class sub-folders). */
  dataUri: string;
  /** Where this assignment writes its tables: `<runUri>/assign/<assignId>` or `<--out>/<assignId>`. */
  assignUri: string;
  /** The explained layers whose neurons are assigned, in the run's order. */
  layers: string[];
  /** Channel ranges assigned in each of those layers; null: every neuron. */
  neurons: NeuronRange[] | null;
  count: CountChoice;
  /** An (image, neuron) pair is assigned only when the neuron's activation exceeds this (and 0). */
  minActivation: number;
  /** Images per assign activity. */
  shardSize: number;
  /** Images decoded and forwarded together. */
  batchSize: number;
  /** Activities in flight at once. */
  window: number;
  /** Minutes transient failures are retried (as SweepConfig.retryWindowMinutes); not part of the identity. */
  retryWindowMinutes?: number;
}

export const ASSIGN_DEFAULTS = {
  count: 'chosen',
  minActivation: 0,
  shardSize: 256,
  batchSize: 64,
  window: 4,
} as const satisfies Partial<AssignConfig>;

/** The options that change results, as a canonical string: the same identity writes the same files. */
export function assignIdentity(config: Omit<AssignConfig, 'assignId' | 'assignUri'>): string {
  return JSON.stringify({
    runUri: config.runUri,
    run: resultIdentity(config.run),
    dataUri: config.dataUri,
    layers: config.layers,
    neurons: config.neurons,
    count: config.count,
    minActivation: config.minActivation,
    shardSize: config.shardSize,
  });
}

/** `<images folder name>-<hash>`: readable, and the same command finds the same folder (it resumes). */
export function defaultAssignId(config: Omit<AssignConfig, 'assignId' | 'assignUri'>): string {
  const hash = createHash('sha256').update(assignIdentity(config)).digest('hex').slice(0, 10);
  const name = config.dataUri.replace(/\/+$/, '').split('/').at(-1) ?? 'images';
  return `${name.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^\.+/, '') || 'images'}-${hash}`;
}

/** Where assignments go when `--out` is not given: beside the run's own tables, under `assign/`. */
export function defaultAssignRoot(runUri: string): string {
  return `${runUri.replace(/\/+$/, '')}/assign`;
}

export function validateAssignConfig(config: AssignConfig): AssignConfig {
  const problems: string[] = [];
  if (!config.assignId || /[/\\]|^\.\.?$/.test(config.assignId))
    problems.push(`assign id must be one path segment, got "${config.assignId}"`);
  if (config.layers.length === 0) problems.push('no layer to assign (--layers)');
  const explained = config.run.layers.slice(1);
  for (const layer of config.layers) {
    if (!explained.includes(layer)) problems.push(`${layer} is not an explained layer of the run`);
  }
  for (const [name, value] of [
    ['shardSize', config.shardSize],
    ['batchSize', config.batchSize],
    ['window', config.window],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) problems.push(`${name} must be an integer >= 1, got ${value}`);
  }
  if (!Number.isFinite(config.minActivation))
    problems.push(`minActivation must be a number, got ${config.minActivation}`);
  if (typeof config.count === 'number' && !(Number.isInteger(config.count) && config.count >= 1))
    problems.push(`count must be chosen, best or an integer >= 1, got ${config.count}`);
  if (problems.length > 0) throw new Error(`invalid assign configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}
