/**
 * Random partitions with given cluster sizes: the chance level a clustering of the embeddings is
 * compared with. Permuting a labelling (Fisher-Yates) keeps its cluster sizes, so the null hypothesis is
 * "the clusters are a random split of the references of these sizes"; inner distances depend on the
 * sizes (pairs are pooled, so big clusters weigh more), which is why a plain random k-way split would be
 * the wrong reference.
 */
import { createRandom, type RandomSource } from '../random.js';
import { innerDistanceSum, innerPairCount, type Partition } from './partition.js';
import { partitionPurity, type ReferenceClasses } from './purity.js';

/** What every partition of one neuron's references shares: computed once per neuron. */
export interface ReferenceSpace {
  readonly size: number;
  /** n x n Euclidean distances between the embeddings, float64. */
  readonly distances: Float64Array;
  /** Sum of the distances over all unordered pairs. */
  readonly totalSum: number;
  readonly classes: ReferenceClasses | null;
}

/** Pooled inner and inter means of one partition, with the fallbacks of clusterDistancesFromMatrix. */
export interface PartitionDistances {
  readonly inner: number;
  readonly inter: number;
}

/**
 * Inner and inter distance of a partition from its inner sum: inter pairs are all pairs minus inner
 * pairs, so one pass over the inner pairs gives both. With no inner pair inner falls back to inter, with
 * no inter pair inter falls back to inner (clusterDistancesFromMatrix's conventions).
 */
export function partitionDistances(
  space: ReferenceSpace,
  partition: Partition,
  ids: Int32Array = partition.ids,
): PartitionDistances {
  const n = space.size;
  const innerSum = innerDistanceSum(space.distances, n, ids, partition.count);
  const innerPairs = innerPairCount(partition.sizes);
  const interPairs = (n * (n - 1)) / 2 - innerPairs;
  const interSum = space.totalSum - innerSum;
  const inner = innerPairs > 0 ? innerSum / innerPairs : interSum / interPairs;
  const inter = interPairs > 0 ? interSum / interPairs : inner;
  return { inner, inter };
}

/** Fisher-Yates (Durstenfeld) shuffle: every permutation equally likely given a uniform source. */
export function shuffleInPlace(values: Int32Array, random: RandomSource): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const held = values[i]!;
    values[i] = values[j]!;
    values[j] = held;
  }
}

/** The statistics of `draws` random permutations of one labelling. */
export interface NullDistribution {
  readonly inner: Float64Array;
  readonly inter: Float64Array;
  /** Label purity of each draw; null without reference classes. */
  readonly purity: Float64Array | null;
}

/** Draws `draws` permutations of the partition's labels from a stream seeded with `seed`. */
export function drawNullDistribution(
  space: ReferenceSpace,
  partition: Partition,
  draws: number,
  seed: number,
): NullDistribution {
  const random = createRandom(seed);
  const shuffled = Int32Array.from(partition.ids);
  const inner = new Float64Array(draws);
  const inter = new Float64Array(draws);
  const classes = space.classes;
  const purity = classes === null ? null : new Float64Array(draws);
  const scratch = new Int32Array(partition.count * (classes?.names.length ?? 0));
  for (let draw = 0; draw < draws; draw++) {
    // Each draw shuffles the previous one: a uniform permutation of a fixed arrangement is uniform too.
    shuffleInPlace(shuffled, random);
    const distances = partitionDistances(space, partition, shuffled);
    inner[draw] = distances.inner;
    inter[draw] = distances.inter;
    if (purity !== null) purity[draw] = partitionPurity(classes!, shuffled, partition.count, scratch);
  }
  return { inner, inter, purity };
}

/**
 * One-sided permutation p-value for "more coherent than chance": (1 + #{draws with inner <= observed})
 * / (1 + draws), counting the observed labelling as one draw so p is never 0 (Phipson & Smyth 2010).
 * Draws equal to the observed value up to rounding count as <= (scipy.stats.permutation_test's
 * relative 100 eps): the same partition summed in another cluster order differs in the last bits.
 */
export function permutationPValue(nullInner: Float64Array, observedInner: number): number {
  const threshold = observedInner + Math.abs(observedInner) * 100 * Number.EPSILON;
  let atMost = 0;
  for (const value of nullInner) if (value <= threshold) atMost++;
  return (1 + atMost) / (1 + nullInner.length);
}

/** Sample standard deviation (n - 1), NaN for fewer than two values. */
export function sampleStandardDeviation(values: Float64Array): number {
  if (values.length < 2) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  const average = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - average) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}
