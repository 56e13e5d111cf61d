/**
 * A comparison as its page shows it, read back from the `compare` and `compare_virtual_neurons` tables of
 * one `against=` partition (so the page shows exactly what the tables hold, whoever wrote them: `pure
 * compare` or a scheduled comparison).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { CHANGE_REASONS, type ChangeReason, type NeuronMeasures } from '../core/compute/compare/verdict.js';
import { num, numOrNull, rows, textOrNull } from './data.js';

/** One layer's outcome. */
export interface LayerOutcome {
  layer: string;
  lowerLayer: string | null;
  compared: number;
  changed: number;
  byReason: Record<ChangeReason, number>;
  /** Whether circuits (and cluster counts) were compared. */
  circuits: boolean;
}

/** A changed neuron, as a row of the page's table: its measures as the verdict read them. */
export interface ChangedNeuron extends Omit<NeuronMeasures, 'sameImages'> {
  layer: string;
  neuron: number;
  severity: number;
  reasons: string;
  /** Its virtual neurons matched, e.g. "0→1 0.98 · 1→0 0.74 · –→2". */
  virtualNeurons: string;
}

export interface ComparisonData {
  runA: string;
  runB: string;
  layers: LayerOutcome[];
  /** The most severe changes first, at most `limit` of them. */
  changed: ChangedNeuron[];
  /** All changed neurons (changed may be cut at the limit). */
  changedTotal: number;
  /** Whether reference images were compared (the runs saw the same images). */
  sameImages: boolean;
}

/** Reads the comparison the views `compare` / `compare_virtual_neurons` hold (createComparisonViews). */
export async function readComparison(
  db: DuckDBConnection,
  withVirtualNeurons: boolean,
  limit: number,
): Promise<ComparisonData> {
  const reasonSums = CHANGE_REASONS.map((r) => `sum(contains(reasons, '${r}')::INTEGER) AS "${r}"`).join(
    ', ',
  );
  const layers = await rows(
    db,
    `SELECT layer, any_value(lower_layer) AS lower_layer, count(*) AS compared, sum(changed) AS changed,
            bool_or(mean_circuit_cosine IS NOT NULL) AS has_circuits, bool_or(reference_jaccard IS NOT NULL) AS has_references,
            any_value(run_a) AS run_a, any_value(run_b) AS run_b, ${reasonSums}
     FROM compare GROUP BY layer ORDER BY layer`,
  );
  const changed = await rows(
    db,
    `SELECT c.*, ${withVirtualNeurons ? 'v.pairs' : "'' AS pairs"}
     FROM compare c ${withVirtualNeurons ? `LEFT JOIN (${pairsSql()}) v USING (layer, neuron)` : ''}
     WHERE c.changed = 1 ORDER BY c.severity DESC, c.layer, c.neuron LIMIT ${Math.max(0, Math.floor(limit))}`,
  );
  return {
    runA: String(layers[0]?.run_a ?? ''),
    runB: String(layers[0]?.run_b ?? ''),
    layers: layers.map((r) => ({
      layer: String(r.layer),
      lowerLayer: textOrNull(r.lower_layer),
      compared: num(r.compared),
      changed: num(r.changed),
      circuits: r.has_circuits === true,
      byReason: Object.fromEntries(CHANGE_REASONS.map((reason) => [reason, num(r[reason])])) as Record<
        ChangeReason,
        number
      >,
    })),
    changed: changed.map(changedNeuron),
    changedTotal: layers.reduce((sum, r) => sum + num(r.changed), 0),
    sameImages: layers.some((r) => r.has_references === true),
  };
}

/** Each neuron's matched virtual neurons in one string, matched pairs first. */
function pairsSql(): string {
  const side = (column: string) => `coalesce(${column}::VARCHAR, '–')`;
  return `SELECT layer, neuron,
            string_agg(${side('cluster_a')} || '→' || ${side('cluster_b')} ||
                       coalesce(' ' || printf('%.2f', similarity), ''), ' · '
                       ORDER BY cluster_a IS NULL, cluster_a, cluster_b) AS pairs
          FROM compare_virtual_neurons GROUP BY layer, neuron`;
}

function changedNeuron(r: Record<string, unknown>): ChangedNeuron {
  return {
    layer: String(r.layer),
    neuron: num(r.neuron),
    severity: num(r.severity),
    reasons: String(r.reasons),
    referenceJaccard: numOrNull(r.reference_jaccard),
    valueRatio: numOrNull(r.value_ratio),
    nClustersA: numOrNull(r.n_clusters_a),
    nClustersB: numOrNull(r.n_clusters_b),
    meanCircuitCosine: numOrNull(r.mean_circuit_cosine),
    matchedSimilarity: numOrNull(r.matched_similarity),
    virtualNeurons: textOrNull(r.pairs) ?? '',
  };
}
