import type { ObjectStore } from '../adapters/storage/index.js';
import { runKeys } from '../compute/run/layout.js';
import type { CropRow } from '../compute/tables/schemas.js';

/** Writes a crop's PNG where `--crop-images` keeps them (crop-images/layer=<L>/neuron-<c>/rank-<r>.png). */
export function writeCropImage(store: ObjectStore): (row: CropRow, png: Uint8Array) => Promise<void> {
  return (row, png) =>
    store.put(runKeys.cropImage(row.layer, row.neuron, row.rank), png, { contentType: 'image/png' });
}
