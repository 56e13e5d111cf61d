/**
 * Dev-only calibration of the automatic cluster count (core/compute/clustering/choose.ts): how often point
 * sets with one cluster are split, and how often planted clusters are found, with the defaults.
 * The numbers in docs/clustering.md come from this script.
 *
 *   npx tsc -p tsconfig.json && node dist/test/dev/cluster-count-calibration.js [trials]
 */
import { chooseClusterCount } from '../../core/compute/clustering/choose.js';
import { adjustedRandIndex } from '../../core/compute/clustering/metrics.js';
import { seededRandom } from '../support/random.js';

type Generator = (seed: number) => { rows: number[][]; truth?: number[] };

function normalSource(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function cloud(n: number, d: number, feature: (normal: () => number, f: number) => number): Generator {
  return (seed) => {
    const normal = normalSource(seed);
    return { rows: Array.from({ length: n }, () => Array.from({ length: d }, (_, f) => feature(normal, f))) };
  };
}

function uniformCloud(n: number, d: number): Generator {
  return (seed) => {
    const random = seededRandom(seed);
    return { rows: Array.from({ length: n }, () => Array.from({ length: d }, () => random())) };
  };
}

/** k blobs, unit noise, centres `separation` sd apart (on orthogonal axes). */
function blobs(n: number, d: number, k: number, separation: number): Generator {
  return (seed) => {
    const normal = normalSource(seed);
    const truth = Array.from({ length: n }, (_, i) => i % k);
    const offset = separation / Math.SQRT2;
    const rows = truth.map((c) => Array.from({ length: d }, (_, f) => normal() + (f === c ? offset : 0)));
    return { rows, truth };
  };
}

/** Sparse non-negative rows with unit L1 norm around one pattern: a monosemantic circuit's shape. */
function circuitCloud(n: number, d: number): Generator {
  return (seed) => {
    const random = seededRandom(seed);
    const rows = Array.from({ length: n }, () => {
      const row = Array.from(
        { length: d },
        (_, f) => (f < 4 ? 0.5 + random() : 0) + (random() < 0.1 ? random() * 0.3 : 0),
      );
      const sum = row.reduce((s, v) => s + v, 0);
      return row.map((v) => v / sum);
    });
    return { rows };
  };
}

const ONE_CLUSTER: [string, Generator][] = [
  ['gaussian n100 d2', cloud(100, 2, (normal) => normal())],
  ['gaussian n100 d16', cloud(100, 16, (normal) => normal())],
  ['gaussian n100 d64', cloud(100, 64, (normal) => normal())],
  ['gaussian n100 d512', cloud(100, 512, (normal) => normal())],
  ['gaussian n30 d8', cloud(30, 8, (normal) => normal())],
  ['gaussian anisotropic n100 d16', cloud(100, 16, (normal, f) => normal() * 10 ** (-f / 5))],
  ['gaussian anisotropic n100 d256', cloud(100, 256, (normal, f) => normal() * 10 ** (-f / 64))],
  ['uniform square n100 d2', uniformCloud(100, 2)],
  ['lognormal n100 d16', cloud(100, 16, (normal) => Math.exp(normal()))],
  [
    'student-t(3)-like n100 d128',
    cloud(100, 128, (normal) => normal() / Math.sqrt((normal() ** 2 + normal() ** 2 + normal() ** 2) / 3)),
  ],
  ['circuit-like one pattern n100 d64', circuitCloud(100, 64)],
];

const CLUSTERED: [string, number, Generator][] = [
  ['2 blobs 6 sd n100 d4', 2, blobs(100, 4, 2, 6)],
  ['3 blobs 6 sd n99 d16', 3, blobs(99, 16, 3, 6)],
  ['5 blobs 6 sd n100 d64', 5, blobs(100, 64, 5, 6)],
  ['3 blobs 8 sd n99 d512', 3, blobs(99, 512, 3, 8)],
  ['2 blobs 11 sd n100 d2048', 2, blobs(100, 2048, 2, 11)],
  ['2 blobs 4 sd n100 d4', 2, blobs(100, 4, 2, 4)],
  ['3 blobs 4 sd n99 d64', 3, blobs(99, 64, 3, 4)],
];

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function main(): void {
  const trials = Number(process.argv[2] ?? 40);
  console.log(`defaults (B = 10 rotations, evidence >= 4, P >= 0.5), ${trials} point sets each\n`);
  console.log('one cluster                           split   P median   P 90%   evidence >= 4');
  for (const [name, generate] of ONE_CLUSTER) {
    const choices = Array.from({ length: trials }, (_, t) =>
      chooseClusterCount(generate(1000 + t).rows, { seed: t }),
    );
    const scores = choices.map((c) => c.polysemanticity);
    console.log(
      `${name.padEnd(36)} ${String(choices.filter((c) => c.clusters > 1).length).padStart(4)}/${trials}` +
        `   ${quantile(scores, 0.5).toFixed(2).padStart(6)}   ${quantile(scores, 0.9).toFixed(2).padStart(5)}` +
        `   ${String(choices.filter((c) => c.evidence >= 4).length).padStart(6)}/${trials}`,
    );
  }
  console.log('\nclustered                             true k   P median   mean ARI at k');
  for (const [name, k, generate] of CLUSTERED) {
    let right = 0;
    let ari = 0;
    const scores: number[] = [];
    for (let t = 0; t < trials; t++) {
      const { rows, truth } = generate(2000 + t);
      const choice = chooseClusterCount(rows, { seed: t });
      if (choice.clusters === k) right++;
      scores.push(choice.polysemanticity);
      const atK = choice.candidates.find((c) => c.clusters === k)!;
      ari += adjustedRandIndex(atK.result.labels, truth!) / trials;
    }
    console.log(
      `${name.padEnd(36)} ${String(right).padStart(4)}/${trials}   ${quantile(scores, 0.5).toFixed(2).padStart(6)}   ${ari.toFixed(2).padStart(8)}`,
    );
  }
}

main();
