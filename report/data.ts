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
  /** Why it was or was not split; null where the run (or the part) predates the verdict columns. */
  verdict: SplitVerdict | null;
}

/**
 * The verdict columns of `neurons`: a neuron is split iff the evidence (its largest over the candidate
 * counts) and P at the best count both reach their thresholds (docs/clustering.md).
 */
export interface SplitVerdict {
  /** The candidate count with the best silhouette, where P is measured; 0 when none fits. */
  bestCount: number;
  /** max over the candidates of candidateEvidence. */
  evidence: number;
  /** Per candidate count, in the order of silhouettes. */
  candidateEvidence: number[];
  /** P per candidate count, in the order of silhouettes. */
  candidatePolysemanticity: number[];
  evidenceThreshold: number;
  polysemanticityThreshold: number;
  /** The verdict in words, e.g. "split in 2: evidence 6.1 >= 4, P 0.55 >= 0.5". */
  decision: string;
  /**
   * What decided: the circuit gates, or (runs with an evaluator) the coherence of the PURE split at the
   * best count, with its gain and p-value.
   */
  verdictBy: 'circuits' | 'evaluation';
  coherenceGain: number | null;
  coherencePValue: number | null;
}

/** How many members of a virtual neuron carry a label. */
export interface LabelCount {
  label: string;
  count: number;
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
  /** The most common label among the members (ties: alphabetical), with its count; null without labels. */
  mainLabel: LabelCount | null;
  /** Every label among the members, most common first (ties: alphabetical). */
  labels: LabelCount[];
  /** The ranks of all its members (its reference images), increasing (rank 1 = the neuron's top reference). */
  ranks: number[];
  /** The members of highest rank (rank 1 first), at most `thumbnails` of them. */
  images: ReportImage[];
  /** The row of the `virtual_neurons` table (runs evaluated with an encoder); null without one. */
  record: VirtualNeuronRecord | null;
}

/** A virtual neuron as the evaluation recorded it (the `virtual_neurons` table). */
export interface VirtualNeuronRecord {
  /** Its reference images. */
  size: number;
  /** Mean distance between its crops in the encoder's space; null for a single image. */
  inner: number | null;
  majorityLabel: string | null;
  /** Share of its images in the majority class. */
  labelPurity: number | null;
}

/** The neurons table's verdict columns, all present in runs since the verdict was recorded. */
const VERDICT_COLUMNS = [
  'best_count',
  'evidence',
  'candidate_evidence',
  'candidate_polysemanticity',
  'evidence_threshold',
  'polysemanticity_threshold',
  'decision',
] as const;
/** Added with the coherence verdict (runs with an evaluator); older runs lack them. */
const COHERENCE_COLUMNS = ['verdict_by', 'coherence_gain', 'coherence_p_value'] as const;

/** A number from DuckDB's JSON rows, where NaN and infinities arrive as strings ("NaN", "Infinity"). */
export const num = (v: unknown): number => Number(v);
/** As num, with SQL NULL kept as null. */
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
/** A float list; a null element (none is written) reads as NaN, not 0. */
const numList = (v: unknown): number[] => (Array.isArray(v) ? v.map((x) => numOrNull(x) ?? Number.NaN) : []);
export const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export async function rows(
  db: DuckDBConnection,
  sql: string,
  values?: Record<string, DuckDBValue>,
): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql, values)).getRowObjectsJson();
}

/** The column names of a view (tables written by older versions lack the newer columns). */
export async function viewColumns(db: DuckDBConnection, view: string): Promise<Set<string>> {
  const result = await rows(db, `DESCRIBE "${view}"`);
  return new Set(result.map((r) => String(r.column_name)));
}

/** Every neuron of every explained layer, with its verdict where the run recorded one. */
export async function readNeurons(db: DuckDBConnection): Promise<ReportNeuron[]> {
  const columns = await viewColumns(db, 'neurons');
  const hasVerdicts = VERDICT_COLUMNS.every((c) => columns.has(c));
  const coherence = COHERENCE_COLUMNS.every((c) => columns.has(c)) ? COHERENCE_COLUMNS : [];
  const result = await rows(
    db,
    `SELECT layer, neuron, n_clusters, polysemanticity, silhouettes, activation_silhouettes, "references"
       ${hasVerdicts ? `, ${[...VERDICT_COLUMNS, ...coherence].join(', ')}` : ''}
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
    verdict: hasVerdicts ? verdictOf(r) : null,
  }));
}

/** The verdict of a neurons row; null for a row of a part written before the verdict columns (all NULL). */
function verdictOf(r: Record<string, unknown>): SplitVerdict | null {
  const decision = textOrNull(r.decision);
  if (decision === null) return null;
  return {
    bestCount: num(r.best_count),
    evidence: num(r.evidence),
    candidateEvidence: numList(r.candidate_evidence),
    candidatePolysemanticity: numList(r.candidate_polysemanticity),
    evidenceThreshold: num(r.evidence_threshold),
    polysemanticityThreshold: num(r.polysemanticity_threshold),
    decision,
    verdictBy: r.verdict_by === 'evaluation' ? 'evaluation' : 'circuits',
    coherenceGain: numOrNull(r.coherence_gain),
    coherencePValue: numOrNull(r.coherence_p_value),
  };
}

export async function countRows(db: DuckDBConnection, view: string): Promise<number> {
  const [row] = await rows(db, `SELECT count(*) AS n FROM "${view}"`);
  return num(row?.n ?? 0);
}

/** The distinct class labels of the images, sorted. */
export async function readLabels(db: DuckDBConnection): Promise<string[]> {
  const result = await rows(db, 'SELECT DISTINCT label FROM samples WHERE label IS NOT NULL ORDER BY label');
  return result.map((r) => String(r.label));
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
  const members = await rows(
    db,
    `SELECT c.neuron, c.method, c.cluster, c.rank, c.sample_index, r.sample_id, r.label
     FROM clusters c
     JOIN (VALUES ${countPairs(counts)}) AS s(neuron, n) ON c.neuron = s.neuron AND c.n_clusters = s.n
     JOIN refs r ON r.layer = c.layer AND r.neuron = c.neuron AND r.rank = c.rank
     WHERE c.layer = $layer
     ORDER BY c.neuron, c.method, c.cluster, c.rank`,
    { layer },
  );
  return groupMembers(members, thumbnails);
}

/**
 * (neuron, count) pairs as the rows of an SQL VALUES list: inlined into the query, so they are checked
 * to be integers first.
 */
export function countPairs(counts: ReadonlyMap<number, number>): string {
  return [...counts]
    .map(([neuron, n]) => {
      if (!Number.isInteger(neuron) || !Number.isInteger(n))
        throw new Error('neuron and count must be integers');
      return `(${neuron}, ${n})`;
    })
    .join(', ');
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
      vn = { cluster, mainLabel: null, labels: [], ranks: [], images: [], record: null };
      clusters.push(vn);
      labelCounts.set(vn, new Map());
    }
    vn.ranks.push(num(r.rank));
    const label = textOrNull(r.label);
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
  for (const [vn, labels] of labelCounts) {
    vn.labels = byCount(labels);
    vn.mainLabel = vn.labels[0] ?? null;
  }
  for (const byMethod of out.values()) {
    for (const clusters of byMethod.values()) clusters.sort((a, b) => a.cluster - b.cluster);
  }
  return out;
}

/** The labels by count, most common first, ties alphabetical. */
function byCount(labels: ReadonlyMap<string, number>): LabelCount[] {
  return [...labels]
    .map(([label, count]) => ({ label, count }))
    .sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
