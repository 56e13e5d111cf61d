/**
 * Step 3 at ImageNet scale: the virtual-neurons stage's per-neuron function (`splitNeuron`: the
 * automatic count with its null references on the circuit vectors, and k-means + silhouette per count on
 * the Activation baseline's features) over a ResNet-50 layer4-sized layer: 2,048 neurons x 100 references,
 * circuit vectors of 1,024 dims (layer3's channels), baseline features of 2,048 dims (layer4's).
 *
 *   npm run bench:clustering [-- --neurons 2048 --references 100 --dims 1024 --feature-dims 2048]
 *
 * The data are synthetic but structured: neuron n has 1 + (n mod 4) clusters, each a random sparse
 * non-negative centre plus Gaussian noise, normalised as circuit vectors are (sum |R_j| = 1); its
 * references' features follow the same clusters. Each neuron's rows are generated just before it is
 * split and the generation is not timed.
 *
 * The stage runs splitNeuron neuron after neuron in one activity (splitNeurons), and a worker's
 * activities share its one JavaScript thread: one worker process uses one core for this. The bench
 * measures that single thread and prints what 2 worker processes (one per core) would take.
 */
import { parseArgs } from 'node:util';
import { type Random, seededRandom } from '../../core/compute/planted/random.js';
import type { RelevanceRow } from '../../core/compute/tables/schemas.js';
import { splitNeuron } from '../../core/compute/virtual-neurons/split.js';
import { peakMemory } from './peak-memory.js';

const { values: args } = parseArgs({
  options: {
    neurons: { type: 'string', default: '2048' },
    references: { type: 'string', default: '100' },
    dims: { type: 'string', default: '1024' },
    'feature-dims': { type: 'string', default: '2048' },
  },
});
const neurons = Number(args.neurons);
const references = Number(args.references);
const dims = Number(args.dims);
const featureDims = Number(args['feature-dims']);
for (const [name, value] of Object.entries({ neurons, references, dims, 'feature-dims': featureDims })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}

/** `count` points around `clusters` sparse non-negative centres; labels say which centre. */
function clusteredPoints(random: Random, clusters: number, count: number, width: number) {
  const centres = Array.from({ length: clusters }, () =>
    Float64Array.from({ length: width }, () => (random.next() < 0.1 ? random.uniform(0, 1) : 0)),
  );
  const labels = Array.from({ length: count }, (_, i) => i % clusters);
  const points = labels.map((label) => {
    const point = Float32Array.from(centres[label]!, (c) => c + 0.05 * random.gaussian());
    return point;
  });
  return { labels, points };
}

function normalisedL1(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += Math.abs(x);
  return v.map((x) => x / (sum + 1e-10));
}

function neuronRows(neuron: number) {
  const random = seededRandom(neuron + 1);
  const clusters = 1 + (neuron % 4);
  const circuits = clusteredPoints(random, clusters, references, dims);
  const features = clusteredPoints(random, clusters, references, featureDims);
  const relevance: RelevanceRow[] = circuits.points.map((point, rank) => ({
    layer: 'layer4',
    lowerLayer: 'layer3',
    neuron,
    rank,
    sampleIndex: neuron * references + rank,
    sampleId: `n${neuron % 1000}/img_${neuron * references + rank}.JPEG`,
    value: 1,
    relevance: normalisedL1(point),
  }));
  const featuresBySample = new Map(
    features.points.map((f, rank) => [neuron * references + rank, f.map(Math.abs)]),
  );
  return { clusters, relevance, featuresBySample };
}

console.log(
  `${neurons} neurons x ${references} references, circuit vectors ${dims} dims, baseline features ${featureDims} dims, node ${process.version}`,
);
let clusteringMs = 0;
let slowest = 0;
let agree = 0;
const start = performance.now();
for (let n = 0; n < neurons; n++) {
  const { clusters, relevance, featuresBySample } = neuronRows(n);
  const t = performance.now();
  const split = splitNeuron(relevance, featuresBySample, { clusterCounts: [2, 3, 4, 5], seed: 0 });
  const ms = performance.now() - t;
  clusteringMs += ms;
  slowest = Math.max(slowest, ms);
  if (split.neuron.nClusters === clusters) agree++;
  if ((n + 1) % 256 === 0) {
    console.log(`  ${n + 1} neurons: ${(clusteringMs / 1000).toFixed(1)} s clustering so far`);
  }
}
const perNeuron = clusteringMs / neurons;
/** Seconds for a whole 2,048-channel layer (the goal's size) at this rate, on one thread. */
const layerSeconds = (perNeuron * 2048) / 1000;
console.log(
  `splitNeuron: ${perNeuron.toFixed(1)} ms per neuron (slowest ${slowest.toFixed(0)} ms), ${(clusteringMs / 1000).toFixed(1)} s for ${neurons} neurons on one thread; wall time with data generation ${((performance.now() - start) / 1000).toFixed(1)} s`,
);
console.log(
  `2,048 neurons at this rate: ${layerSeconds.toFixed(1)} s on one thread (one worker process), ~${(layerSeconds / 2).toFixed(1)} s on 2 worker processes, one per core (goal < 60 s)`,
);
console.log(
  `automatic count = planted count for ${agree} of ${neurons} neurons (a sanity check of the data)`,
);
console.log(`peak memory: ${peakMemory()}`);
