import { featureView, firstPosition, type TokenPositions } from '../onnx/feature-layout.js';
import type { ReferenceRow, SampleRow } from '../tables/schemas.js';

/** A candidate reference: a sample's max activation for one neuron and where it occurred. */
export interface Candidate {
  value: number;
  sampleIndex: number;
  h: number;
  w: number;
}

/**
 * The total order of references: larger value first; equal values by smaller sample index, so results
 * never depend on shard boundaries, batch order or worker count.
 */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.value !== b.value) return a.value > b.value ? -1 : 1;
  return a.sampleIndex - b.sampleIndex;
}

/** True if `a` ranks after `b` (is the one to evict first). */
function ranksAfter(
  values: Float64Array,
  samples: Int32Array,
  i: number,
  valueB: number,
  sampleB: number,
): boolean {
  const valueA = values[i]!;
  return valueA < valueB || (valueA === valueB && samples[i]! > sampleB);
}

/**
 * Streaming top-k for one neuron: a binary heap whose root is the weakest kept candidate, in typed
 * arrays so a full-model sweep (millions of offers) allocates nothing per offer.
 */
export class TopKSelector {
  private readonly values: Float64Array;
  private readonly samples: Int32Array;
  private readonly positions: Int32Array; // h * 65536 + w packed
  private size = 0;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
    this.values = new Float64Array(k);
    this.samples = new Int32Array(k);
    this.positions = new Int32Array(k);
  }

  /** Offers a candidate; true if it is now kept (possibly evicting the weakest one). */
  offer(value: number, sampleIndex: number, h: number, w: number): boolean {
    if (Number.isNaN(value)) return false; // a NaN activation is no evidence of anything
    if (this.size < this.k) {
      this.values[this.size] = value;
      this.samples[this.size] = sampleIndex;
      this.positions[this.size] = h * 65536 + w;
      this.siftUp(this.size++);
      return true;
    }
    // Replace the root only if the new candidate ranks before it.
    if (!ranksAfter(this.values, this.samples, 0, value, sampleIndex)) return false;
    this.values[0] = value;
    this.samples[0] = sampleIndex;
    this.positions[0] = h * 65536 + w;
    this.siftDown(0);
    return true;
  }

  /** The sample indices of the kept candidates, in no particular order (a view: do not keep it). */
  keptSamples(): Int32Array {
    return this.samples.subarray(0, this.size);
  }

  /** The kept candidates, best first. */
  sorted(): Candidate[] {
    const out: Candidate[] = [];
    for (let i = 0; i < this.size; i++) {
      const p = this.positions[i]!;
      out.push({
        value: this.values[i]!,
        sampleIndex: this.samples[i]!,
        h: Math.floor(p / 65536),
        w: p % 65536,
      });
    }
    return out.sort(compareCandidates);
  }

  private swap(i: number, j: number): void {
    const v = this.values[i]!;
    this.values[i] = this.values[j]!;
    this.values[j] = v;
    const s = this.samples[i]!;
    this.samples[i] = this.samples[j]!;
    this.samples[j] = s;
    const p = this.positions[i]!;
    this.positions[i] = this.positions[j]!;
    this.positions[j] = p;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      // Heap property: a parent ranks after (is weaker than) its children.
      if (!ranksAfter(this.values, this.samples, i, this.values[parent]!, this.samples[parent]!)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let weakest = i;
      if (
        left < this.size &&
        ranksAfter(this.values, this.samples, left, this.values[weakest]!, this.samples[weakest]!)
      ) {
        weakest = left;
      }
      if (
        right < this.size &&
        ranksAfter(this.values, this.samples, right, this.values[weakest]!, this.samples[weakest]!)
      ) {
        weakest = right;
      }
      if (weakest === i) return;
      this.swap(i, weakest);
      i = weakest;
    }
  }
}

/** Merges per-shard top-k lists of one neuron into the global top-k (shards hold disjoint samples). */
export function mergeTopK(lists: readonly (readonly Candidate[])[], k: number): Candidate[] {
  return lists.flat().slice().sort(compareCandidates).slice(0, k);
}

/**
 * Feeds one batch of a layer's activations into the per-neuron selectors: the neuron's value on an image
 * is the max of its activation over its positions (space for [n, C, ...spatial], tokens for [n, T, D]:
 * feature-layout.ts), position = first arg-max in row-major order, as (h, w) for maps and (0, token) for
 * tokens. Rank-2 outputs ([n, C]) are 1x1 maps. With tokens 'patches' the leading non-patch tokens
 * (the class token) are left out of the max and its position (feature-layout.ts, firstPosition).
 */
export function offerActivationBatch(
  selectors: readonly TopKSelector[],
  dims: readonly number[],
  data: Float32Array,
  sampleIndices: readonly number[],
  tokens: TokenPositions = 'all',
): void {
  if (dims.length < 2) {
    throw new Error(`activation must be at least [batch, channels], got [${dims.join(', ')}]`);
  }
  const view = featureView(dims);
  if (view.features !== selectors.length) {
    throw new Error(`activation has ${view.features} channels but ${selectors.length} selectors were given`);
  }
  if (view.rows !== sampleIndices.length)
    throw new Error(`batch of ${view.rows} but ${sampleIndices.length} sample indices`);
  const width = dims.length >= 4 ? dims[dims.length - 1]! : view.positions;
  const { stride } = view;
  const first = firstPosition(view, tokens);
  for (let b = 0; b < view.rows; b++) {
    const sampleIndex = sampleIndices[b]!;
    for (let c = 0; c < view.features; c++) {
      const base = view.base(b, c);
      let best = data[base + first * stride]!;
      let arg = first;
      for (let i = first + 1; i < view.positions; i++) {
        const v = data[base + i * stride]!;
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      selectors[c]!.offer(best, sampleIndex, Math.floor(arg / width), arg % width);
    }
  }
}

/** The references table's rows of one neuron, from its candidates in rank order. */
export function referenceRows(
  layer: string,
  neuron: number,
  ranked: readonly Candidate[],
  sampleOf: (sampleIndex: number) => Pick<SampleRow, 'sampleId' | 'sampleUri' | 'label'>,
): ReferenceRow[] {
  return ranked.map((candidate, i) => {
    const sample = sampleOf(candidate.sampleIndex);
    return {
      layer,
      neuron,
      rank: i + 1,
      sampleIndex: candidate.sampleIndex,
      sampleId: sample.sampleId,
      sampleUri: sample.sampleUri,
      label: sample.label,
      value: candidate.value,
      h: candidate.h,
      w: candidate.w,
    };
  });
}
