/**
 * Dev-only (docs/outputs.md, "compare", thresholds): how far circuits move between two runs, to choose the
 * thresholds of `pure compare`. Per layer whose circuits both runs have, the distribution over neurons of
 * the mean circuit's cosine and, for every candidate count (not only the chosen one, so that runs whose
 * neurons are all monosemantic still say how stable a split's centroids are), the smallest cosine over
 * the virtual neurons matched across the runs.
 *
 *   node dist/test/dev/compare-calibration.js <run A> <run B> [<run B'> ...]
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { openComparedRuns } from '../../core/adapters/analytics/compared-runs.js';
import {
  cosine,
  matchVirtualNeurons,
  meanVector,
  type ReferenceCircuit,
  virtualNeuronCentroids,
} from '../../core/compute/compare/index.js';

type Circuits = Map<number, Map<number, ReferenceCircuit[]>>;

/** neuron -> count -> its references' circuits with their cluster at that count. */
async function readAllCounts(db: DuckDBConnection, side: 'a' | 'b', layer: string): Promise<Circuits> {
  const rows = (
    await db.runAndReadAll(
      `SELECT v.neuron, c.n_clusters, v.sample_id, v.relevance, c.cluster
       FROM ${side}.relevance v JOIN ${side}.clusters c
         ON c.layer = v.layer AND c.neuron = v.neuron AND c.rank = v.rank AND c.method = 'pure'
       WHERE v.layer = $layer ORDER BY v.neuron, c.n_clusters, v.rank`,
      { layer },
    )
  ).getRowObjectsJson();
  const out: Circuits = new Map();
  for (const r of rows) {
    const byCount = out.get(Number(r.neuron)) ?? new Map<number, ReferenceCircuit[]>();
    out.set(Number(r.neuron), byCount);
    const list = byCount.get(Number(r.n_clusters)) ?? [];
    byCount.set(Number(r.n_clusters), list);
    list.push({
      sampleId: String(r.sample_id),
      cluster: Number(r.cluster),
      relevance: Float32Array.from(r.relevance as unknown[], Number),
    });
  }
  return out;
}

function quantiles(values: number[]): string {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `min ${sorted[0]!.toFixed(4)}  p05 ${at(0.05).toFixed(4)}  median ${at(0.5).toFixed(4)}  (n ${sorted.length})`;
}

async function calibrate(runA: string, runB: string): Promise<void> {
  const db = await openComparedRuns(runA, runB);
  const layers = (
    await db.runAndReadAll(
      'SELECT DISTINCT layer FROM a.relevance INTERSECT SELECT DISTINCT layer FROM b.relevance',
    )
  ).getRowObjectsJson();
  process.stdout.write(`\n${runA}  vs  ${runB}\n`);
  for (const { layer } of layers) {
    const [a, b] = [await readAllCounts(db, 'a', String(layer)), await readAllCounts(db, 'b', String(layer))];
    const meanCosines: number[] = [];
    const matched = new Map<number, number[]>();
    for (const [neuron, countsA] of a) {
      const countsB = b.get(neuron);
      if (!countsB) continue;
      for (const [count, refsA] of countsA) {
        const refsB = countsB.get(count);
        if (!refsB) continue;
        if (meanCosines.length < a.size && count === Math.min(...countsA.keys())) {
          meanCosines.push(
            cosine(meanVector(refsA.map((r) => r.relevance)), meanVector(refsB.map((r) => r.relevance))),
          );
        }
        const pairs = matchVirtualNeurons(
          virtualNeuronCentroids(refsA, count),
          virtualNeuronCentroids(refsB, count),
        );
        const similarities = pairs.flatMap((p) => (p.similarity === null ? [] : [p.similarity]));
        matched.set(count, [...(matched.get(count) ?? []), Math.min(...similarities)]);
      }
    }
    process.stdout.write(`  ${layer}\n    mean circuit cosine        ${quantiles(meanCosines)}\n`);
    for (const [count, values] of [...matched].sort((x, y) => x[0] - y[0])) {
      process.stdout.write(`    matched similarity at ${count}    ${quantiles(values)}\n`);
    }
  }
  db.closeSync();
}

const [runA, ...others] = process.argv.slice(2);
if (!runA || others.length === 0) {
  process.stderr.write('usage: node dist/test/dev/compare-calibration.js <run A> <run B> [<run B> ...]\n');
  process.exit(2);
}
for (const runB of others) await calibrate(runA, runB);
