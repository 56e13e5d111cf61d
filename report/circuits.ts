/**
 * What makes a virtual neuron PURE's: its circuit. Each reference image's relevance vector (the `relevance`
 * table: R over the channels of the lower layer L', docs/design.md step 2) says which lower-layer channels
 * drove the neuron on that image; a virtual neuron's circuit is the mean of its members' vectors, and its
 * top channels are those with the largest mean relevance. Reading is per chunk of neurons, so that a big
 * layer's vectors are never all in memory at once.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { num, rows, textOrNull } from './data.js';

/** A neuron's circuit vectors: one per reference image, by rank. */
export interface NeuronCircuits {
  /** L', the layer whose channels the vectors run over. */
  lowerLayer: string;
  /** rank → relevance over the channels of L'. */
  vectors: Map<number, Float32Array>;
  /** rank → the image's class label (null without labels). */
  labels: Map<number, string | null>;
}

/** A lower-layer channel as a virtual neuron's circuit uses it. */
export interface CircuitChannel {
  /** The channel of L'. */
  channel: number;
  /** Its mean relevance over the virtual neuron's reference images. */
  meanRelevance: number;
  /** meanRelevance / the sum of |mean relevance| over all channels: its share of the circuit. */
  share: number;
}

/** The circuit vectors of the given neurons of `layer` (neurons without any are absent). */
export async function readCircuits(
  db: DuckDBConnection,
  layer: string,
  neurons: readonly number[],
): Promise<Map<number, NeuronCircuits>> {
  const out = new Map<number, NeuronCircuits>();
  if (neurons.length === 0) return out;
  if (!neurons.every(Number.isInteger)) throw new Error('neurons must be integers');
  const result = await rows(
    db,
    `SELECT v.neuron, v.rank, v.lower_layer, v.relevance, r.label
     FROM relevance v
     LEFT JOIN refs r ON r.layer = v.layer AND r.neuron = v.neuron AND r.rank = v.rank
     WHERE v.layer = $layer AND v.neuron IN (${neurons.join(', ')})
     ORDER BY v.neuron, v.rank`,
    { layer },
  );
  for (const r of result) {
    const neuron = num(r.neuron);
    let circuits = out.get(neuron);
    if (!circuits) {
      circuits = { lowerLayer: String(r.lower_layer), vectors: new Map(), labels: new Map() };
      out.set(neuron, circuits);
    }
    const values = Array.isArray(r.relevance) ? r.relevance : [];
    circuits.vectors.set(
      num(r.rank),
      Float32Array.from(values, (x) => Number(x)),
    );
    circuits.labels.set(num(r.rank), textOrNull(r.label));
  }
  return out;
}

/**
 * The `n` channels with the largest mean relevance over `vectors` (all of one length), largest first;
 * channels whose mean is not positive do not drive the virtual neuron and are left out.
 */
export function topChannels(vectors: readonly ArrayLike<number>[], n: number): CircuitChannel[] {
  if (vectors.length === 0) return [];
  const width = vectors[0]!.length;
  const mean = new Float64Array(width);
  for (const v of vectors) {
    if (v.length !== width) throw new Error(`circuit vectors of lengths ${width} and ${v.length}`);
    for (let c = 0; c < width; c++) mean[c]! += v[c]! / vectors.length;
  }
  let total = 0;
  for (const m of mean) total += Math.abs(m);
  return [...mean]
    .map((meanRelevance, channel) => ({
      channel,
      meanRelevance,
      share: total > 0 ? meanRelevance / total : 0,
    }))
    .filter((c) => c.meanRelevance > 0)
    .sort((a, b) => b.meanRelevance - a.meanRelevance || a.channel - b.channel)
    .slice(0, n);
}
