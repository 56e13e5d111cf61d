/**
 * Which neurons `pure assign` covers and at which cluster count. Free of Node imports: the assign
 * workflow decides with these which neuron batches of a layer have work.
 */
import type { NeuronRange } from '../run/config.js';

/**
 * The virtual neurons an image is assigned among: `chosen` (the run's automatic count, `neurons.n_clusters`:
 * one virtual neuron for a monosemantic neuron), `best` (`neurons.best_count`, the split a monosemantic
 * neuron was judged on), or a fixed count of the run's `--clusters` for every neuron.
 */
export type CountChoice = 'chosen' | 'best' | number;

/** `--count`: chosen, best, or an integer >= 1. */
export function parseCountChoice(text: string): CountChoice {
  const value = text.trim();
  if (value === 'chosen' || value === 'best') return value;
  const n = Number(value);
  if (value !== '' && Number.isInteger(n) && n >= 1) return n;
  throw new Error(`--count must be chosen, best or an integer >= 1, got ${JSON.stringify(text)}`);
}

/**
 * `--neurons 0-15,31` as sorted, merged half-open ranges ([{0,16},{31,32}]). Channel indices, the same
 * for every selected layer.
 */
export function parseNeuronList(text: string): NeuronRange[] {
  const ranges: NeuronRange[] = [];
  for (const item of text.split(',').map((s) => s.trim())) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!match) {
      throw new Error(
        `--neurons: expected channel indices and ranges like 0-15,31, got ${JSON.stringify(item)}`,
      );
    }
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new Error(`--neurons: the range ${item} ends before it starts`);
    ranges.push({ first, end: last + 1 });
  }
  return mergeRanges(ranges);
}

/** Sorted, overlapping or touching ranges joined. */
export function mergeRanges(ranges: readonly NeuronRange[]): NeuronRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const merged: NeuronRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.first <= last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}

/** The list as `--neurons` takes it: `0-15,31`. */
export function formatNeuronList(ranges: readonly NeuronRange[]): string {
  return ranges.map((r) => (r.end - r.first === 1 ? `${r.first}` : `${r.first}-${r.end - 1}`)).join(',');
}

/** Whether `neuron` is selected (every neuron when there is no selection). */
export function selectsNeuron(selection: readonly NeuronRange[] | null, neuron: number): boolean {
  return selection === null || selection.some((r) => neuron >= r.first && neuron < r.end);
}

/** Whether any neuron of `batch` is selected. */
export function selectsAnyOf(selection: readonly NeuronRange[] | null, batch: NeuronRange): boolean {
  return selection === null || selection.some((r) => r.first < batch.end && batch.first < r.end);
}
