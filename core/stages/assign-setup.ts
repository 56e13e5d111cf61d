/**
 * `pure assign` before any image is assigned (docs/outputs.md, "Assigning new images"): the request
 * resolved against the finished run (configureAssign, in the CLI, so a mistake costs seconds), the same
 * checks again where the workers are with the assignment's config and image manifest recorded
 * (prepareAssign), and each layer's virtual neurons as centroids (centroidsLayer).
 */
import type { Dataset } from '../adapters/datasets/dataset.js';
import { type ObjectStore, openStore } from '../adapters/storage/index.js';
import { readJson, readTable, writeJson, writeTable } from '../adapters/tables/io.js';
import { centroidsOfPart } from '../compute/assign/centroids.js';
import {
  ASSIGN_DEFAULTS,
  type AssignConfig,
  assignIdentity,
  defaultAssignId,
  defaultAssignRoot,
  validateAssignConfig,
} from '../compute/assign/config.js';
import { parseCountChoice, parseNeuronList, selectsAnyOf } from '../compute/assign/selection.js';
import { asInputError, InputError } from '../compute/errors.js';
import { type NeuronRange, resultIdentity, type SweepConfig } from '../compute/run/config.js';
import { assignKeys, runKeys } from '../compute/run/layout.js';
import { neuronRanges } from '../compute/run/ranges.js';
import {
  type CentroidRow,
  centroidsSchema,
  clustersSchema,
  neuronsSchema,
  relevanceSchema,
  samplesSchema,
} from '../compute/tables/schemas.js';
import { normaliseUri } from './configure.js';
import { checkDataset, checkOutputWritable } from './preflight.js';

/** What a user asks `pure assign` for: the run, the images, and which neurons at which count. */
export interface AssignRequest {
  run: string;
  images: string;
  /** Root of the output (default `<run>/assign`); the assignment writes `<root>/<assign id>/`. */
  out?: string;
  /** Comma-separated explained layers (default: all). */
  layers?: string;
  /** Channel list like `0-15,31` (default: all). */
  neurons?: string;
  count?: string;
  minActivation?: number;
  shardSize?: number;
  batchSize?: number;
  window?: number;
  retryWindow?: number;
}

/** An explained layer of the run, as assign needs it: the layer its circuits run over, and its width. */
export interface AssignLayer {
  layer: string;
  lowerLayer: string;
  channels: number;
}

/** The run's config.json, or an error that says the folder is not a finished run. */
export async function readRunConfig(runUri: string): Promise<SweepConfig> {
  const store = openStore(runUri);
  if (!(await store.exists(runKeys.config))) {
    throw new InputError(
      'InvalidRun',
      `${runUri}: no config.json there; pass the folder of a finished pure run, <out>/<run>`,
    );
  }
  return readJson<SweepConfig>(store, runKeys.config);
}

/** The request as a fixed AssignConfig: the run read, layers, neurons and count checked, the id derived. */
export async function configureAssign(request: AssignRequest): Promise<AssignConfig> {
  const runUri = normaliseUri(request.run);
  const run = await readRunConfig(runUri);
  const explained = run.layers.slice(1);
  const layers = request.layers
    ? request.layers
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean)
    : explained;
  const partial = await asInputError('InvalidAssignRequest', () => ({
    runUri,
    run,
    dataUri: normaliseUri(request.images),
    layers: explained.filter((l) => layers.includes(l)),
    neurons: request.neurons ? parseNeuronList(request.neurons) : null,
    count: parseCountChoice(request.count ?? String(ASSIGN_DEFAULTS.count)),
    minActivation: request.minActivation ?? ASSIGN_DEFAULTS.minActivation,
    shardSize: request.shardSize ?? ASSIGN_DEFAULTS.shardSize,
    batchSize: request.batchSize ?? ASSIGN_DEFAULTS.batchSize,
    window: request.window ?? ASSIGN_DEFAULTS.window,
    ...(request.retryWindow ? { retryWindowMinutes: request.retryWindow } : {}),
  }));
  const unknown = layers.filter((l) => !explained.includes(l));
  if (unknown.length > 0 || explained.length === 0) {
    throw new InputError(
      'InvalidAssignRequest',
      explained.length === 0
        ? `${runUri}: the run explains no layer (it has one layer, or stopped after the references)`
        : `--layers ${unknown.join(',')}: not an explained layer of the run; it explains ${explained.join(', ')}`,
    );
  }
  checkCount(partial.count, run);
  const assignId = defaultAssignId(partial);
  const config = {
    ...partial,
    assignId,
    assignUri: `${normaliseUri(request.out ?? defaultAssignRoot(runUri))}/${assignId}`,
  };
  await asInputError('InvalidAssignRequest', () => validateAssignConfig(config));
  await resolveAssignLayers(openStore(runUri), config);
  return config;
}

/** A fixed count must be one the run clustered at (or 1: each neuron kept whole). */
function checkCount(count: AssignConfig['count'], run: SweepConfig): void {
  if (typeof count === 'number' && count !== 1 && !run.clusterCounts.includes(count)) {
    throw new InputError(
      'InvalidAssignRequest',
      `--count ${count}: the run clustered at ${run.clusterCounts.join(', ')} only (or pass 1, chosen or best)`,
    );
  }
}

/**
 * Each layer to assign, checked finished (its `neurons` manifest, written when the layer is done) and
 * sized (the last part's highest neuron), with the neuron selection checked against its width.
 */
export async function resolveAssignLayers(
  runStore: ObjectStore,
  config: Pick<AssignConfig, 'run' | 'runUri' | 'layers' | 'neurons'>,
): Promise<AssignLayer[]> {
  const resolved: AssignLayer[] = [];
  for (const layer of config.layers) {
    const manifestKey = runKeys.layerManifest('neurons', layer);
    if (!(await runStore.exists(manifestKey))) {
      throw new InputError(
        'RunNotFinished',
        `${config.runUri}: the virtual neurons of ${layer} are not finished (no ${manifestKey}); ` +
          'run the same pure run command to the end first',
      );
    }
    const { parts } = await readJson<{ parts: string[] }>(runStore, manifestKey);
    const last = await readTable(runStore, parts.at(-1)!, neuronsSchema);
    const channels = Math.max(...last.map((n) => n.neuron)) + 1;
    const beyond = (config.neurons ?? []).filter((r) => r.end > channels);
    if (beyond.length > 0) {
      throw new InputError(
        'InvalidAssignRequest',
        `--neurons: ${layer} has channels 0-${channels - 1} only; pick the layer with --layers`,
      );
    }
    const index = config.run.layers.indexOf(layer);
    resolved.push({ layer, lowerLayer: config.run.layers[index - 1]!, channels });
  }
  return resolved;
}

export interface PreparedAssign {
  numSamples: number;
  layers: AssignLayer[];
}

/**
 * The checks again, where the workers are (they may see the run, the images and the output root
 * differently than the client); then the config (the same as a stored one) and the image manifest
 * (written once: every shard sees the same images in the same order).
 */
export async function prepareAssign(
  input: AssignConfig,
  store: ObjectStore,
  dataset: () => Dataset,
): Promise<PreparedAssign> {
  const config = await asInputError('InvalidAssignRequest', () => validateAssignConfig(input));
  const run = await readRunConfig(config.runUri);
  if (resultIdentity(run) !== resultIdentity(config.run)) {
    throw new InputError(
      'RunConfigMismatch',
      `${config.runUri}: the run there changed since this assignment was configured; run pure assign again`,
    );
  }
  const layers = await resolveAssignLayers(openStore(config.runUri), config);
  await checkOutputWritable(config.assignUri, { transientIsFatal: false });
  await recordAssignConfig(config, store);
  let manifest = (await store.exists(assignKeys.samples))
    ? await readTable(store, assignKeys.samples, samplesSchema)
    : undefined;
  if (!manifest) {
    manifest = await checkDataset(
      dataset(),
      { ...config, k: 1, limit: 0, preprocess: run.preprocess },
      undefined,
      'images',
    );
    await writeTable(store, assignKeys.samples, samplesSchema, manifest);
  }
  return { numSamples: manifest.length, layers };
}

async function recordAssignConfig(config: AssignConfig, store: ObjectStore): Promise<void> {
  if (!(await store.exists(assignKeys.config))) {
    await writeJson(store, assignKeys.config, config);
    return;
  }
  const previous = await readJson<AssignConfig>(store, assignKeys.config);
  if (assignIdentity(previous) !== assignIdentity(config)) {
    throw new InputError(
      'RunConfigMismatch',
      `${config.assignUri} already holds an assignment with other options; pass another --out`,
    );
  }
}

export interface CentroidsResult {
  layer: string;
  /** Neurons with centroids, and how many of them have more than one virtual neuron. */
  neurons: number;
  split: number;
  reused: boolean;
}

/**
 * A layer's virtual neurons as centroids, one part: per neuron batch of the run (its relevance, clusters
 * and neurons parts, read one batch at a time), the selected neurons' centroids at their count.
 */
export async function centroidsLayer(
  config: AssignConfig,
  layer: AssignLayer,
  runStore: ObjectStore,
  store: ObjectStore,
): Promise<CentroidsResult> {
  const key = assignKeys.centroids(layer.layer);
  if (await store.exists(key)) {
    return { ...countNeurons(layer.layer, await readTable(store, key, centroidsSchema)), reused: true };
  }
  const rows: CentroidRow[] = [];
  for (const batch of selectedBatches(config, layer)) {
    const keyOf = (table: 'relevance' | 'clusters' | 'neurons') =>
      runKeys.layerPart(table, layer.layer, batch);
    const part = {
      relevance: await readTable(runStore, keyOf('relevance'), relevanceSchema),
      clusters: await readTable(runStore, keyOf('clusters'), clustersSchema),
      neurons: await readTable(runStore, keyOf('neurons'), neuronsSchema),
    };
    for (const row of centroidsOfPart(part, config.count, config.neurons)) rows.push(row);
  }
  await writeTable(store, key, centroidsSchema, rows);
  return { ...countNeurons(layer.layer, rows), reused: false };
}

/** The run's neuron batches of a layer that hold a selected neuron. */
function selectedBatches(config: AssignConfig, layer: AssignLayer): NeuronRange[] {
  return neuronRanges(layer.channels, config.run.neuronBatch).filter((b) => selectsAnyOf(config.neurons, b));
}

function countNeurons(layer: string, rows: readonly CentroidRow[]): Omit<CentroidsResult, 'reused'> {
  const countOf = new Map(rows.map((r) => [r.neuron, r.nClusters]));
  return { layer, neurons: countOf.size, split: [...countOf.values()].filter((n) => n > 1).length };
}
