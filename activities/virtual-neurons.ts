import { Context } from '@temporalio/activity';
import type { LayerShape, NeuronRange, SweepConfig } from '../core/compute/run/config.js';
import { LAYER_TABLES, runKeys } from '../core/compute/run/layout.js';
import {
  activationFeaturesSchema,
  clustersSchema,
  type NeuronRow,
  neuronsSchema,
  relevanceSchema,
  type SkippedRow,
  skippedSchema,
} from '../core/compute/tables/schemas.js';
import { splitNeurons } from '../core/compute/virtual-neurons/split.js';
import { readTable, runStore, writeJson, writeTable } from './io.js';

export interface VirtualNeuronsInput {
  config: SweepConfig;
  lowerLayer: string;
  layer: LayerShape;
  neurons: NeuronRange;
}

export interface VirtualNeuronsResult {
  neuronsKey: string;
  polysemantic: number;
  reused: boolean;
}

export interface FinishLayerInput {
  config: SweepConfig;
  lowerLayer: string;
  layer: LayerShape;
  batches: NeuronRange[];
}

export interface LayerSummary {
  layer: string;
  lowerLayer: string;
  neurons: number;
  /** Neurons the automatic choice split into two or more virtual neurons. */
  polysemantic: number;
  meanPolysemanticity: number;
  skipped: number;
}

/**
 * Step 3 of PURE as activities: k-means on the circuits (and on the Activation baseline) of a range of
 * neurons; then, per layer, manifests of its tables. CPU only: these run on the CPU task queue.
 */
export function createVirtualNeuronActivities() {
  async function virtualNeurons({
    config,
    layer,
    neurons,
  }: VirtualNeuronsInput): Promise<VirtualNeuronsResult> {
    const store = runStore(config);
    const neuronsKey = runKeys.layerPart('neurons', layer.name, neurons);
    if (await store.exists(neuronsKey)) return { neuronsKey, polysemantic: -1, reused: true };
    const relevance = await readTable(
      store,
      runKeys.layerPart('relevance', layer.name, neurons),
      relevanceSchema,
    );
    const features = await readTable(
      store,
      runKeys.layerPart('activations', layer.name, neurons),
      activationFeaturesSchema,
    );
    const splits = await splitNeurons(relevance, features, {
      clusterCounts: config.clusterCounts,
      seed: config.seed,
    });
    Context.current().heartbeat();
    await writeTable(
      store,
      runKeys.layerPart('clusters', layer.name, neurons),
      clustersSchema,
      splits.flatMap((s) => s.clusters),
    );
    await writeTable(
      store,
      neuronsKey,
      neuronsSchema,
      splits.map((s) => s.neuron),
    );
    return { neuronsKey, polysemantic: splits.filter((s) => s.neuron.nClusters > 1).length, reused: false };
  }

  async function finishLayer({
    config,
    lowerLayer,
    layer,
    batches,
  }: FinishLayerInput): Promise<LayerSummary> {
    const store = runStore(config);
    const neurons: NeuronRow[] = [];
    const skipped: SkippedRow[] = [];
    for (const range of batches) {
      neurons.push(
        ...(await readTable(store, runKeys.layerPart('neurons', layer.name, range), neuronsSchema)),
      );
      skipped.push(...(await readTable(store, runKeys.circuitsSkipped(layer.name, range), skippedSchema)));
    }
    if (!(await store.exists(runKeys.skippedCircuits(layer.name)))) {
      await writeTable(store, runKeys.skippedCircuits(layer.name), skippedSchema, skipped);
    }
    for (const table of LAYER_TABLES) {
      const key = runKeys.layerManifest(table, layer.name);
      if (await store.exists(key)) continue;
      await writeJson(store, key, {
        table,
        layer: layer.name,
        lowerLayer,
        parts: batches.map((range) => runKeys.layerPart(table, layer.name, range)),
      });
    }
    const polysemantic = neurons.filter((n) => n.nClusters > 1).length;
    return {
      layer: layer.name,
      lowerLayer,
      neurons: neurons.length,
      polysemantic,
      meanPolysemanticity: neurons.reduce((s, n) => s + n.polysemanticity, 0) / Math.max(1, neurons.length),
      skipped: skipped.length,
    };
  }

  return { virtualNeurons, finishLayer };
}

export type VirtualNeuronActivities = ReturnType<typeof createVirtualNeuronActivities>;
