import type { ReferenceRow, SampleRow } from '../tables/schemas.js';
import { referenceRows, TopKSelector } from './topk.js';

type SampleMeta = Pick<SampleRow, 'sampleId' | 'sampleUri' | 'label'>;

/**
 * The streaming merge of one layer's shard references into its global top-k per neuron: shard parts are
 * folded in one at a time (`add`), so memory is bounded by neurons x k kept candidates plus the part being
 * folded, however many shards there are (docs/design.md, "The method", step 1).
 *
 * Per neuron a {@link TopKSelector} keeps the best k under the total order of `compareCandidates`;
 * shards hold disjoint samples, so no two candidates of a neuron tie in that order and the kept set is
 * the one a sort of every shard's rows would keep: results do not depend on the order of the parts.
 * Sample metadata (id, URI, label) is kept only for samples some neuron still keeps.
 */
export class LayerReferenceMerger {
  private readonly selectors = new Map<number, TopKSelector>();
  private samples = new Map<number, SampleMeta>();

  constructor(
    readonly layer: string,
    readonly k: number,
  ) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  }

  /** Folds one shard's rows in (rows of other layers are ignored). */
  add(rows: readonly ReferenceRow[]): void {
    let accepted = false;
    for (const row of rows) {
      if (row.layer !== this.layer) continue;
      let selector = this.selectors.get(row.neuron);
      if (!selector) {
        selector = new TopKSelector(this.k);
        this.selectors.set(row.neuron, selector);
      }
      if (selector.offer(row.value, row.sampleIndex, row.h, row.w)) {
        this.samples.set(row.sampleIndex, {
          sampleId: row.sampleId,
          sampleUri: row.sampleUri,
          label: row.label,
        });
        accepted = true;
      }
    }
    if (accepted) this.forgetEvictedSamples();
  }

  /** Neurons seen so far, and the number of samples whose metadata is kept (for tests and benchmarks). */
  get size(): { neurons: number; samples: number } {
    return { neurons: this.selectors.size, samples: this.samples.size };
  }

  /** The merged rows: neurons ascending, each ranked 1..k. */
  result(): ReferenceRow[] {
    const merged: ReferenceRow[] = [];
    for (const neuron of [...this.selectors.keys()].sort((a, b) => a - b)) {
      const ranked = this.selectors.get(neuron)!.sorted();
      for (const row of referenceRows(this.layer, neuron, ranked, (i) => this.samples.get(i)!)) {
        merged.push(row);
      }
    }
    return merged;
  }

  /** Drops the metadata of samples no neuron keeps any more. */
  private forgetEvictedSamples(): void {
    const kept = new Map<number, SampleMeta>();
    for (const selector of this.selectors.values()) {
      for (const sampleIndex of selector.keptSamples()) {
        if (!kept.has(sampleIndex)) kept.set(sampleIndex, this.samples.get(sampleIndex)!);
      }
    }
    this.samples = kept;
  }
}

/**
 * Merges the per-shard references of one layer into its global top-k per neuron, ranked 1..k, all at
 * once. Shards hold disjoint samples; the order is the total order of `compareCandidates`.
 */
export function mergeLayerReferences(
  layer: string,
  shardRows: readonly ReferenceRow[],
  k: number,
): ReferenceRow[] {
  const merger = new LayerReferenceMerger(layer, k);
  merger.add(shardRows);
  return merger.result();
}
