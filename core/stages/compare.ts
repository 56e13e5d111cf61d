/**
 * `pure compare A B` (docs/outputs.md, "compare"): the layers two runs have in common, matched neuron by
 * neuron. Reads both runs through DuckDB, compares with core/compute/compare, and writes the `compare` and
 * `compare_virtual_neurons` tables under run B (or another output root), one part per layer.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  compareImages,
  openComparedRuns,
  readLayerShapes,
  readNeuronSides,
} from '../adapters/analytics/compared-runs.js';
import { noteProgress } from '../adapters/progress.js';
import { isNotFound, type ObjectStore, openStore } from '../adapters/storage/index.js';
import { readJson, writeTable } from '../adapters/tables/io.js';
import {
  CHANGE_REASONS,
  type ChangeReason,
  COMPARE_THRESHOLDS,
  type ComparedNeuron,
  type CompareThresholds,
  compareNeuron,
  compareRow,
  compareVirtualNeuronRows,
  type LayerPlan,
  planComparison,
} from '../compute/compare/index.js';
import { InputError } from '../compute/errors.js';
import type { SweepConfig } from '../compute/run/config.js';
import { COMPARE_TABLES, compareKeys, runKeys } from '../compute/run/layout.js';
import {
  type CompareRow,
  type CompareVirtualNeuronRow,
  compareSchema,
  compareVirtualNeuronsSchema,
} from '../compute/tables/schemas.js';
import { normaliseUri } from './configure.js';

export interface CompareOptions {
  /** Output root for the tables; default run B's folder. */
  out?: string;
  thresholds?: CompareThresholds;
  /** Called after each layer. */
  onLayer?: (layer: string, done: number, total: number) => void;
}

/** One common layer's outcome. */
export interface LayerComparison {
  layer: string;
  lowerLayer: string | null;
  neuronsA: number;
  neuronsB: number;
  compared: number;
  changed: number;
  /** Changed neurons per reason (a neuron may count under several). */
  byReason: Record<ChangeReason, number>;
  /** What is not compared and why; null when everything is. */
  note: string | null;
}

export interface ComparisonResult {
  runA: string;
  runB: string;
  /** Run A's id: the `against=` partition of the tables. */
  against: string;
  /** Where the tables are: the output root (run B unless --out). */
  outUri: string;
  images: { same: boolean; a: number; b: number; shared: number };
  layers: LayerComparison[];
  onlyInA: string[];
  onlyInB: string[];
}

/** Neurons read and compared at a time: bounds memory on wide layers (their circuit vectors). */
const NEURON_CHUNK = 64;

/** Compares run A (the earlier) with run B and writes the compare tables; returns the outcome per layer. */
export async function compareRuns(
  runA: string,
  runB: string,
  options: CompareOptions = {},
): Promise<ComparisonResult> {
  const [uriA, uriB] = [normaliseUri(runA), normaliseUri(runB)];
  const [configA, configB] = await Promise.all([uriA, uriB].map((uri) => readRunConfig(uri)));
  const outUri = normaliseUri(options.out ?? uriB);
  const out = openStore(outUri);
  const db = await openComparedRuns(uriA, uriB);
  try {
    const images = await compareImages(db);
    const plan = planComparison(
      await readLayerShapes(db, 'a', configA!.layers),
      await readLayerShapes(db, 'b', configB!.layers),
      images.same,
    );
    const against = configA!.runId;
    for (const table of COMPARE_TABLES) await deleteAll(out, compareKeys.partition(table, against));
    const layers: LayerComparison[] = [];
    for (const layerPlan of plan.layers) {
      const ctx = { db, out, against, runA: uriA, runB: uriB, sameImages: images.same };
      layers.push(await compareLayer(ctx, layerPlan, options.thresholds ?? COMPARE_THRESHOLDS));
      options.onLayer?.(layerPlan.layer, layers.length, plan.layers.length);
    }
    return {
      runA: uriA,
      runB: uriB,
      against,
      outUri,
      images,
      layers,
      onlyInA: plan.onlyInA,
      onlyInB: plan.onlyInB,
    };
  } finally {
    db.closeSync();
  }
}

/** A run's config.json; a missing one is an InputError (retrying will not make it appear). */
async function readRunConfig(uri: string): Promise<SweepConfig> {
  return readJson<SweepConfig>(openStore(uri), runKeys.config).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
    throw new InputError('InvalidRun', `${uri} is not a run (no ${runKeys.config}): point at <out>/<run>`);
  });
}

async function deleteAll(store: ObjectStore, prefix: string): Promise<void> {
  for (const key of await store.list(prefix)) await store.delete(key);
}

interface LayerContext {
  db: DuckDBConnection;
  out: ObjectStore;
  against: string;
  runA: string;
  runB: string;
  sameImages: boolean;
}

/** Compares one layer's neurons chunk by chunk and writes its part of each table. */
async function compareLayer(
  ctx: LayerContext,
  plan: LayerPlan,
  thresholds: CompareThresholds,
): Promise<LayerComparison> {
  const rows: CompareRow[] = [];
  const pairs: CompareVirtualNeuronRow[] = [];
  const comparability = { sameImages: ctx.sameImages, sameCircuitSpace: plan.sameCircuitSpace };
  for (let first = 0; first < plan.compared; first += NEURON_CHUNK) {
    const neurons = Array.from(
      { length: Math.min(NEURON_CHUNK, plan.compared - first) },
      (_, i) => first + i,
    );
    // One after the other: both read through the one DuckDB connection.
    const a = await readNeuronSides(ctx.db, 'a', plan.layer, neurons, plan.sameCircuitSpace);
    const b = await readNeuronSides(ctx.db, 'b', plan.layer, neurons, plan.sameCircuitSpace);
    for (const neuron of neurons) {
      const sideA = a.get(neuron);
      const sideB = b.get(neuron);
      if (!sideA || !sideB) continue;
      const at: ComparedNeuron = {
        runA: ctx.runA,
        runB: ctx.runB,
        layer: plan.layer,
        neuron,
        lowerLayer: plan.lowerLayer,
      };
      const comparison = compareNeuron(sideA, sideB, comparability, thresholds);
      rows.push(compareRow(at, comparison));
      pairs.push(...compareVirtualNeuronRows(at, comparison, ctx.sameImages));
    }
    noteProgress();
  }
  await writeTable(ctx.out, compareKeys.part('compare', ctx.against, plan.layer), compareSchema, rows);
  if (pairs.length > 0) {
    const key = compareKeys.part('compare_virtual_neurons', ctx.against, plan.layer);
    await writeTable(ctx.out, key, compareVirtualNeuronsSchema, pairs);
  }
  return summarise(plan, rows);
}

function summarise(plan: LayerPlan, rows: readonly CompareRow[]): LayerComparison {
  const byReason = Object.fromEntries(CHANGE_REASONS.map((r) => [r, 0])) as Record<ChangeReason, number>;
  for (const row of rows) {
    for (const reason of row.reasons.split(',')) if (reason in byReason) byReason[reason as ChangeReason]++;
  }
  return {
    layer: plan.layer,
    lowerLayer: plan.lowerLayer,
    neuronsA: plan.neuronsA,
    neuronsB: plan.neuronsB,
    compared: rows.length,
    changed: rows.filter((r) => r.changed === 1).length,
    byReason,
    note: plan.note,
  };
}
