/**
 * Two runs open side by side in one DuckDB (schemas `a` and `b`, one view per table of each), and the reads
 * `pure compare` needs from each: its layers' shapes, whether the runs saw the same images, and per neuron
 * its references and circuits.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { LayerShape } from '../../compute/compare/layers.js';
import type { NeuronSide } from '../../compute/compare/neuron.js';
import { InputError } from '../../compute/errors.js';
import { isS3Uri } from '../storage/index.js';
import { openDuckDB, s3SettingsFromEnv } from './duckdb.js';
import { createRunViews } from './views.js';

/** The schema each run's views live in. */
export type RunSide = 'a' | 'b';

/** One DuckDB with run A's views in schema `a` and run B's in `b`; close it with closeSync. */
export async function openComparedRuns(runA: string, runB: string): Promise<DuckDBConnection> {
  const s3 = isS3Uri(runA) || isS3Uri(runB) ? s3SettingsFromEnv() : undefined;
  if ((isS3Uri(runA) || isS3Uri(runB)) && !s3) {
    throw new InputError(
      'MissingS3Keys',
      'reading an s3:// run with DuckDB needs PURE_S3_ENDPOINT (or AWS_ENDPOINT_URL) and explicit keys in the environment',
    );
  }
  const db = await openDuckDB(s3);
  try {
    for (const [side, uri] of [
      ['a', runA],
      ['b', runB],
    ] as const) {
      const views = new Set(await createRunViews(db, uri, side));
      if (!views.has('references') || !views.has('samples')) {
        throw new Error(`${uri} has no references yet: compare runs whose first step has finished`);
      }
    }
  } catch (error) {
    db.closeSync();
    throw error;
  }
  return db;
}

async function rows(
  db: DuckDBConnection,
  sql: string,
  values?: Record<string, DuckDBValue>,
): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql, values)).getRowObjectsJson();
}

async function hasView(db: DuckDBConnection, side: RunSide, view: string): Promise<boolean> {
  const found = await rows(
    db,
    'SELECT 1 FROM duckdb_views() WHERE schema_name = $side AND view_name = $view',
    { side, view },
  );
  return found.length > 0;
}

/** The run's layers that have references, in the order of `layers` (its config's --layers). */
export async function readLayerShapes(
  db: DuckDBConnection,
  side: RunSide,
  layers: readonly string[],
): Promise<LayerShape[]> {
  const neurons = await rows(db, `SELECT layer, max(neuron) + 1 AS n FROM ${side}.refs GROUP BY layer`);
  const lower = new Map<string, { lowerLayer: string; width: number }>();
  const explained = await Promise.all(['relevance', 'neurons', 'clusters'].map((v) => hasView(db, side, v)));
  if (explained.every(Boolean)) {
    const found = await rows(
      db,
      `SELECT layer, any_value(lower_layer) AS lower_layer, max(len(relevance)) AS width
       FROM ${side}.relevance GROUP BY layer`,
    );
    for (const r of found)
      lower.set(String(r.layer), { lowerLayer: String(r.lower_layer), width: Number(r.width) });
  }
  const counts = new Map(neurons.map((r) => [String(r.layer), Number(r.n)]));
  return layers.flatMap((layer) => {
    const n = counts.get(layer);
    if (n === undefined) return [];
    const circuits = lower.get(layer);
    return [
      { layer, neurons: n, lowerLayer: circuits?.lowerLayer ?? null, circuitWidth: circuits?.width ?? null },
    ];
  });
}

/** Whether both runs' sample manifests name the same images (sample ids), and how many each has. */
export async function compareImages(
  db: DuckDBConnection,
): Promise<{ same: boolean; a: number; b: number; shared: number }> {
  const [r] = await rows(
    db,
    `SELECT (SELECT count(DISTINCT sample_id) FROM a.samples) AS a,
            (SELECT count(DISTINCT sample_id) FROM b.samples) AS b,
            (SELECT count(*) FROM (SELECT DISTINCT sample_id FROM a.samples
                                   INTERSECT SELECT DISTINCT sample_id FROM b.samples)) AS shared`,
  );
  const [a, b, shared] = [Number(r?.a ?? 0), Number(r?.b ?? 0), Number(r?.shared ?? 0)];
  return { same: a === b && b === shared, a, b, shared };
}

/** The references (ids and values in rank order) of the given neurons of one layer. */
async function readReferences(
  db: DuckDBConnection,
  side: RunSide,
  layer: string,
  neurons: readonly number[],
): Promise<Map<number, Pick<NeuronSide, 'sampleIds' | 'values'>>> {
  const found = await rows(
    db,
    `SELECT neuron, list(sample_id ORDER BY rank) AS ids, list(value ORDER BY rank) AS vals
     FROM ${side}.refs WHERE layer = $layer AND neuron IN (${integers(neurons)}) GROUP BY neuron`,
    { layer },
  );
  return new Map(
    found.map((r) => [
      Number(r.neuron),
      { sampleIds: (r.ids as unknown[]).map(String), values: (r.vals as unknown[]).map(Number) },
    ]),
  );
}

/**
 * The circuits of the given neurons: each neuron's automatic count, and per reference its relevance vector
 * with its PURE cluster at that count (0 for a count of 1, which has no clustering of its own).
 */
async function readCircuits(
  db: DuckDBConnection,
  side: RunSide,
  layer: string,
  neurons: readonly number[],
): Promise<Map<number, NonNullable<NeuronSide['circuits']>>> {
  const found = await rows(
    db,
    `SELECT v.neuron, n.n_clusters, v.sample_id, v.relevance, coalesce(c.cluster, 0) AS cluster
     FROM ${side}.relevance v
     JOIN ${side}.neurons n ON n.layer = v.layer AND n.neuron = v.neuron
     LEFT JOIN ${side}.clusters c ON c.layer = v.layer AND c.neuron = v.neuron AND c.rank = v.rank
       AND c.method = 'pure' AND c.n_clusters = n.n_clusters
     WHERE v.layer = $layer AND v.neuron IN (${integers(neurons)})
     ORDER BY v.neuron, v.rank`,
    { layer },
  );
  const out = new Map<number, NonNullable<NeuronSide['circuits']>>();
  for (const r of found) {
    const neuron = Number(r.neuron);
    let circuits = out.get(neuron);
    if (!circuits) {
      circuits = { nClusters: Number(r.n_clusters), references: [] };
      out.set(neuron, circuits);
    }
    circuits.references.push({
      sampleId: String(r.sample_id),
      cluster: Number(r.cluster),
      relevance: Float32Array.from(r.relevance as unknown[], Number),
    });
  }
  return out;
}

/**
 * The given neurons of one layer as one run holds them; circuits only with `withCircuits` (the layer's
 * circuits are compared). A neuron without references is absent.
 */
export async function readNeuronSides(
  db: DuckDBConnection,
  side: RunSide,
  layer: string,
  neurons: readonly number[],
  withCircuits: boolean,
): Promise<Map<number, NeuronSide>> {
  if (neurons.length === 0) return new Map();
  const references = await readReferences(db, side, layer, neurons);
  const circuits = withCircuits ? await readCircuits(db, side, layer, neurons) : new Map();
  const out = new Map<number, NeuronSide>();
  for (const [neuron, refs] of references)
    out.set(neuron, { ...refs, circuits: circuits.get(neuron) ?? null });
  return out;
}

function integers(values: readonly number[]): string {
  if (!values.every(Number.isInteger)) throw new Error('neurons must be integers');
  return values.join(', ');
}
