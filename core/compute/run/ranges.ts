/**
 * How a sweep's work is cut into activities. Free of Node imports: workflows compute the same ranges
 * the activities do, so payloads carry counts, not lists of ranges.
 */
import type { NeuronRange, ShardRange } from './config.js';

export function shardRanges(total: number, shardSize: number): ShardRange[] {
  const shards: ShardRange[] = [];
  for (let first = 0; first < total; first += shardSize)
    shards.push({ first, end: Math.min(total, first + shardSize) });
  return shards;
}

/** The neuron batches of a layer: one circuits / clustering activity each, and one part of each table. */
export function neuronRanges(channels: number, batch: number): NeuronRange[] {
  const ranges: NeuronRange[] = [];
  for (let first = 0; first < channels; first += batch)
    ranges.push({ first, end: Math.min(channels, first + batch) });
  return ranges;
}
