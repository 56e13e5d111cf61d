import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { ClusterMethod } from '../core/compute/tables/schemas.js';

/** One row of the `neurons` table, as the report uses it. */
export interface ReportNeuron {
  layer: string;
  neuron: number;
  /** The automatic choice; 1 = monosemantic. */
  nClusters: number;
  polysemanticity: number;
  silhouettes: number[];
  activationSilhouettes: number[];
  references: number;
}

/** A reference image as the report shows it. */
export interface ReportImage {
  rank: number;
  sampleIndex: number;
  sampleId: string;
  label: string | null;
}

/** One virtual neuron (cluster) of a neuron's clustering. */
export interface VirtualNeuron {
  cluster: number;
  /** Reference images in the cluster. */
  members: number;
  /** The most common label among the members (ties: alphabetical), with its count; null without labels. */
  mainLabel: { label: string; count: number } | null;
  /** The members of highest rank (rank 1 first), at most `thumbnails` of them. */
  images: ReportImage[];
}

const num = (v: unknown): number => Number(v);
const numList = (v: unknown): number[] => (Array.isArray(v) ? v.map(num) : []);

async function rows(
  db: DuckDBConnection,
  sql: string,
  values?: Record<string, DuckDBValue>,
): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql, values)).getRowObjectsJson();
}

/** Every neuron of every explained layer. */
export async function readNeurons(db: DuckDBConnection): Promise<ReportNeuron[]> {
  const result = await rows(
    db,
    `SELECT layer, neuron, n_clusters, polysemanticity, silhouettes, activation_silhouettes, "references"
     FROM neurons ORDER BY layer, polysemanticity DESC, neuron`,
  );
  return result.map((r) => ({
    layer: String(r.layer),
    neuron: num(r.neuron),
    nClusters: num(r.n_clusters),
    polysemanticity: num(r.polysemanticity),
    silhouettes: numList(r.silhouettes),
    activationSilhouettes: numList(r.activation_silhouettes),
    references: num(r.references),
  }));
}

export async function countRows(db: DuckDBConnection, view: string): Promise<number> {
  const [row] = await rows(db, `SELECT count(*) AS n FROM "${view}"`);
  return num(row?.n ?? 0);
}

/** Images each stage skipped (distinct images per stage). */
export async function readSkipped(db: DuckDBConnection): Promise<{ stage: string; images: number }[]> {
  const result = await rows(
    db,
    'SELECT stage, count(DISTINCT sample_index) AS n FROM skipped GROUP BY stage ORDER BY stage',
  );
  return result.map((r) => ({ stage: String(r.stage), images: num(r.n) }));
}

/**
 * The virtual neurons of the given neurons of one layer, each at its own cluster count, for both methods:
 * `result.get(neuron).get(method)` lists the clusters in id order.
 */
export async function readVirtualNeurons(
  db: DuckDBConnection,
  layer: string,
  counts: ReadonlyMap<number, number>,
  thumbnails: number,
): Promise<Map<number, Map<ClusterMethod, VirtualNeuron[]>>> {
  if (counts.size === 0) return new Map();
  // The (neuron, count) pairs are inlined as a VALUES list, so they are checked to be integers first.
  const pairs = [...counts].map(([neuron, n]) => {
    if (!Number.isInteger(neuron) || !Number.isInteger(n))
      throw new Error('neuron and count must be integers');
    return `(${neuron}, ${n})`;
  });
  const members = await rows(
    db,
    `SELECT c.neuron, c.method, c.cluster, c.rank, c.sample_index, r.sample_id, r.label
     FROM clusters c
     JOIN (VALUES ${pairs.join(', ')}) AS s(neuron, n) ON c.neuron = s.neuron AND c.n_clusters = s.n
     JOIN refs r ON r.layer = c.layer AND r.neuron = c.neuron AND r.rank = c.rank
     WHERE c.layer = $layer
     ORDER BY c.neuron, c.method, c.cluster, c.rank`,
    { layer },
  );
  return groupMembers(members, thumbnails);
}

/** Cluster members (ordered by neuron, method, cluster, rank) as virtual neurons; see readVirtualNeurons. */
function groupMembers(
  members: readonly Record<string, unknown>[],
  thumbnails: number,
): Map<number, Map<ClusterMethod, VirtualNeuron[]>> {
  const out = new Map<number, Map<ClusterMethod, VirtualNeuron[]>>();
  const labelCounts = new Map<VirtualNeuron, Map<string, number>>();
  for (const r of members) {
    const neuron = num(r.neuron);
    const method = String(r.method) as ClusterMethod;
    const cluster = num(r.cluster);
    const byMethod = out.get(neuron) ?? new Map<ClusterMethod, VirtualNeuron[]>();
    out.set(neuron, byMethod);
    const clusters = byMethod.get(method) ?? [];
    byMethod.set(method, clusters);
    let vn = clusters.find((c) => c.cluster === cluster);
    if (!vn) {
      vn = { cluster, members: 0, mainLabel: null, images: [] };
      clusters.push(vn);
      labelCounts.set(vn, new Map());
    }
    vn.members += 1;
    const label = r.label === null || r.label === undefined ? null : String(r.label);
    if (label !== null) {
      const labels = labelCounts.get(vn)!;
      labels.set(label, (labels.get(label) ?? 0) + 1);
    }
    if (vn.images.length < thumbnails) {
      vn.images.push({
        rank: num(r.rank),
        sampleIndex: num(r.sample_index),
        sampleId: String(r.sample_id),
        label,
      });
    }
  }
  for (const [vn, labels] of labelCounts) vn.mainLabel = mostCommon(labels);
  for (const byMethod of out.values()) {
    for (const clusters of byMethod.values()) clusters.sort((a, b) => a.cluster - b.cluster);
  }
  return out;
}

/** The label with the highest count, ties to the alphabetically first; null for no labels. */
function mostCommon(labels: ReadonlyMap<string, number>): { label: string; count: number } | null {
  let best: { label: string; count: number } | null = null;
  for (const [label, count] of [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!best || count > best.count) best = { label, count };
  }
  return best;
}
