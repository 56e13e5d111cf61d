/**
 * Dev-only cross-check of core/compute/evaluation against numpy + scipy (not part of CI: it needs
 * Debian's python3-scipy, `apt-get install -y python3-scipy`, run with /usr/bin/python3).
 *
 *   npx tsc -p tsconfig.json && node dist/test/dev/evaluation-crosscheck.js
 *
 * 20 synthetic neurons (n = 100 references, D = 512 float32 embeddings, unit-normalised like CLIP's;
 * k = 2..5, some counts missing): `pure` labels follow planted groups with noise, `activation` labels
 * are random; classes follow the groups with noise, 10% unknown. Exact checks (relative 1e-9):
 * inner, inter, overall, label purity, cluster sizes, and per virtual neuron size, inner, majority
 * class and its share, for pure, activation and embedding (whose k-means labels are recomputed here).
 * Statistical checks: our p-value (100 draws of our PRNG) against scipy-side numpy's (2,000
 * permutations), and the null mean against its expectation, the overall mean. Exit status 1 if any fails.
 * PURE_SCIPY_PYTHON overrides the interpreter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kmeans } from '../../core/compute/clustering/kmeans.js';
import type { RowMatrix } from '../../core/compute/clustering/points.js';
import {
  type Clustering,
  evaluateNeuron,
  type GivenClustering,
  type NeuronEvaluation,
} from '../../core/compute/evaluation/index.js';
import { projectRoot } from '../support/paths.js';
import { seededRandom } from '../support/random.js';

const NEURONS = 20;
const REFERENCES = 100;
const DIMENSIONS = 512;
const COUNTS = [2, 3, 4, 5];
const DRAWS = 100;
const PYTHON_PERMUTATIONS = 2000;
const SEED = 0;

interface Neuron {
  readonly matrix: RowMatrix;
  readonly clusterings: GivenClustering[];
  readonly classes: (string | null)[];
}

interface ScipyCluster {
  readonly cluster: number;
  readonly size: number;
  readonly inner: number | null;
  readonly majority: string | null;
  readonly purity: number | null;
}

interface ScipyResult {
  readonly method: string;
  readonly k: number;
  readonly inner: number;
  readonly inter: number;
  readonly overall: number;
  readonly sizes: number[];
  readonly purity: number | null;
  readonly clusters: ScipyCluster[];
  readonly pValue: number;
}

interface ScipyReply {
  readonly numpy: string;
  readonly scipy: string;
  readonly neurons: ScipyResult[][];
}

/** Planted groups of varying strength, unit-normalised rows, float32 like stored embeddings. */
function syntheticNeuron(index: number): Neuron {
  const random = seededRandom(1000 + index);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const groups = 2 + (index % 4);
  const spread = [0, 0.05, 0.1, 0.3][index % 4]!;
  const centres = Array.from({ length: groups }, () => Array.from({ length: DIMENSIONS }, () => normal()));
  const truth = Array.from({ length: REFERENCES }, () => Math.floor(random() * groups));
  const values = new Float32Array(REFERENCES * DIMENSIONS);
  for (let i = 0; i < REFERENCES; i++) {
    const row = centres[truth[i]!]!.map((c) => c * spread + normal() / Math.sqrt(DIMENSIONS));
    const norm = Math.hypot(...row);
    for (let f = 0; f < DIMENSIONS; f++) values[i * DIMENSIONS + f] = row[f]! / norm;
  }
  // Neurons with few references lack the larger counts, as splitNeuron leaves out k >= n.
  const counts = index % 5 === 4 ? COUNTS.slice(0, 3) : COUNTS;
  const clusterings = counts.flatMap((k): GivenClustering[] => [
    {
      method: 'pure',
      nClusters: k,
      labels: truth.map((t) => (random() < 0.15 ? Math.floor(random() * k) : t % k)),
    },
    { method: 'activation', nClusters: k, labels: truth.map(() => Math.floor(random() * k)) },
  ]);
  const classes = truth.map((t) =>
    random() < 0.1 ? null : `class${random() < 0.2 ? Math.floor(random() * 6) : t}`,
  );
  return { matrix: { values, rows: REFERENCES, cols: DIMENSIONS }, clusterings, classes };
}

/** Every labelling the evaluation scores: the given ones and k-means on the embeddings (same seed). */
function allClusterings(neuron: Neuron): Clustering[] {
  const counts = [...new Set(neuron.clusterings.map((c) => c.nClusters))];
  const embedding = counts.map(
    (k): Clustering => ({
      method: 'embedding',
      nClusters: k,
      labels: kmeans(neuron.matrix, k, { seed: SEED }).labels,
    }),
  );
  return [...neuron.clusterings, ...embedding];
}

function runScipy(neurons: Neuron[], clusterings: Clustering[][]): ScipyReply | undefined {
  const python = process.env.PURE_SCIPY_PYTHON ?? '/usr/bin/python3';
  const script = resolve(projectRoot, 'test', 'dev', 'evaluation-crosscheck.py');
  const directory = mkdtempSync(join(tmpdir(), 'pure-evaluation-crosscheck-'));
  try {
    const input = join(directory, 'in.json');
    const output = join(directory, 'out.json');
    const request = neurons.map((neuron, n) => ({
      rows: neuron.matrix.rows,
      cols: neuron.matrix.cols,
      values: Array.from(neuron.matrix.values),
      classes: neuron.classes,
      clusterings: clusterings[n]!.map((c) => ({
        method: c.method,
        k: c.nClusters,
        labels: Array.from(c.labels),
      })),
    }));
    writeFileSync(input, JSON.stringify({ permutations: PYTHON_PERMUTATIONS, neurons: request }));
    const child = spawnSync(python, [script, input, output], { encoding: 'utf8' });
    if (child.error !== undefined || child.status !== 0) {
      console.error(`scipy run failed (${python}): ${child.error?.message ?? child.stderr}`);
      return undefined;
    }
    return JSON.parse(readFileSync(output, 'utf8')) as ScipyReply;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** |a - b| / |b|, 0 when both are null, Infinity when only one is. */
function relative(a: number | null, b: number | null): number {
  if (a === null || b === null || Number.isNaN(a))
    return a === b || (Number.isNaN(a) && b === null) ? 0 : Infinity;
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

/** Worst relative differences of one (method, k) against scipy, and the exact mismatches. */
function compareRow(
  ours: NeuronEvaluation,
  theirs: ScipyResult,
): { worst: Record<string, number>; problems: string[] } {
  const row = ours.evaluations.find((r) => r.method === theirs.method && r.nClusters === theirs.k)!;
  const clusters = ours.virtualNeurons.filter((r) => r.method === theirs.method && r.nClusters === theirs.k);
  const worst: Record<string, number> = {
    inner: relative(row.inner, theirs.inner),
    inter: relative(row.inter, theirs.inter),
    overall: relative(row.overall, theirs.overall),
    purity: relative(row.labelPurity, theirs.purity),
    clusterInner: 0,
    clusterPurity: 0,
  };
  const problems: string[] = [];
  if (row.clusterSizes.join() !== theirs.sizes.join()) problems.push('sizes');
  if (clusters.length !== theirs.clusters.length) problems.push('cluster count');
  theirs.clusters.forEach((expected, c) => {
    const actual = clusters[c];
    if (!actual || actual.cluster !== expected.cluster || actual.size !== expected.size)
      problems.push('cluster');
    else if (actual.majorityLabel !== expected.majority) problems.push('majority');
    else {
      worst.clusterInner = Math.max(worst.clusterInner!, relative(actual.inner, expected.inner));
      worst.clusterPurity = Math.max(worst.clusterPurity!, relative(actual.labelPurity, expected.purity));
    }
  });
  for (const [name, value] of Object.entries(worst)) if (!(value <= 1e-9)) problems.push(name);
  return { worst, problems };
}

/** Our p-value (DRAWS draws) against numpy's (many): 4 binomial sd of ours plus one draw's step. */
function pValueAgrees(ours: number, theirs: number): boolean {
  return Math.abs(ours - theirs) <= 4 * Math.sqrt((theirs * (1 - theirs)) / DRAWS) + 2 / (DRAWS + 1);
}

function main(): void {
  const neurons = Array.from({ length: NEURONS }, (_, index) => syntheticNeuron(index));
  const clusterings = neurons.map(allClusterings);
  const ours = neurons.map((neuron, index) =>
    evaluateNeuron(
      {
        embeddings: neuron.matrix,
        clusterings: neuron.clusterings,
        classLabels: neuron.classes,
        neuron: { layer: 'synthetic', neuron: index },
      },
      { seed: SEED, randomSamples: DRAWS },
    ),
  );
  const reply = runScipy(neurons, clusterings);
  if (reply === undefined) {
    process.exitCode = 2;
    return;
  }
  report(ours, reply);
}

function report(ours: NeuronEvaluation[], reply: ScipyReply): void {
  console.log(
    `numpy ${reply.numpy}, scipy ${reply.scipy}; ${NEURONS} neurons, n ${REFERENCES}, D ${DIMENSIONS}`,
  );
  const worst: Record<string, number> = {};
  let rows = 0;
  let failures = 0;
  let pAgree = 0;
  let pRows = 0;
  let nullZWorst = 0;
  ours.forEach((evaluation, n) => {
    for (const theirs of reply.neurons[n]!) {
      rows++;
      const { worst: rowWorst, problems } = compareRow(evaluation, theirs);
      for (const [name, value] of Object.entries(rowWorst)) worst[name] = Math.max(worst[name] ?? 0, value);
      const row = evaluation.evaluations.find((r) => r.method === theirs.method && r.nClusters === theirs.k)!;
      pRows++;
      if (pValueAgrees(row.pValue!, theirs.pValue)) pAgree++;
      else problems.push(`p ${row.pValue!.toFixed(3)} vs ${theirs.pValue.toFixed(3)}`);
      // The permutation null's expectation is the overall mean: every pair is equally likely inside.
      const z = (row.nullInnerMean - theirs.overall) / (row.nullInnerSd / Math.sqrt(DRAWS));
      nullZWorst = Math.max(nullZWorst, Math.abs(z));
      if (!(Math.abs(z) < 4.5)) problems.push(`null mean z ${z.toFixed(2)}`);
      if (problems.length > 0) {
        failures++;
        console.log(`neuron ${n} ${theirs.method} k ${theirs.k}: ${problems.join(', ')}`);
      }
    }
    const sample = evaluation.evaluations.find((r) => r.method === 'pure' && r.nClusters === 2)!;
    console.log(
      `neuron ${String(n).padStart(2)}: pure k2 inner ${sample.inner.toFixed(4)} inter ${sample.inter.toFixed(4)}` +
        ` gain ${sample.coherenceGain.toFixed(3)} p ${sample.pValue!.toFixed(3)} purity ${sample.labelPurity?.toFixed(3)}`,
    );
  });
  console.log(`\n${rows} (neuron, method, k) rows compared; worst relative difference to scipy:`);
  for (const [name, value] of Object.entries(worst))
    console.log(`  ${name.padEnd(13)} ${value.toExponential(2)}`);
  console.log(
    `p-values within 4 binomial sd of numpy's (${PYTHON_PERMUTATIONS} permutations): ${pAgree} of ${pRows}`,
  );
  console.log(`null inner mean vs overall: worst |z| ${nullZWorst.toFixed(2)}`);
  console.log(failures === 0 ? 'cross-check passed' : `cross-check FAILED: ${failures} rows`);
  if (failures > 0) process.exitCode = 1;
}

main();
