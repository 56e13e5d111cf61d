/**
 * Parquet write throughput of the circuits stage's output: relevance parts (one neuron batch each, 16
 * neurons x 100 references by default, circuit vectors of 1,024 floats: ResNet-50 layer3 -> layer4)
 * written by `writeTable` (Arrow, then parquet-wasm with zstd) into a local folder store, as the stage
 * writes them. Prints rows/s, MB/s of Parquet written and of float payload, and the peak memory.
 *
 *   npm run bench:parquet [-- --parts 20 --neurons 16 --references 100 --dims 1024]
 *
 * The vectors are random and L1-normalised like circuit vectors (dense float32 noise compresses little,
 * as real circuit vectors do; the file sizes printed say how much). The rows of a part are built before
 * its write and are not timed; the local disk's write is included.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../../core/adapters/storage/index.js';
import { writeTable } from '../../core/adapters/tables/io.js';
import { createRandom } from '../../core/compute/random.js';
import { runKeys } from '../../core/compute/run/layout.js';
import { type RelevanceRow, relevanceSchema } from '../../core/compute/tables/schemas.js';
import { peakMemory } from './peak-memory.js';

const { values: args } = parseArgs({
  options: {
    parts: { type: 'string', default: '20' },
    neurons: { type: 'string', default: '16' },
    references: { type: 'string', default: '100' },
    dims: { type: 'string', default: '1024' },
  },
});
const parts = Number(args.parts);
const neurons = Number(args.neurons);
const references = Number(args.references);
const dims = Number(args.dims);
for (const [name, value] of Object.entries({ parts, neurons, references, dims })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}

const layer = '/layer4/layer4.2/relu_2/Relu_output_0';
function partRows(part: number): RelevanceRow[] {
  const random = createRandom(part + 1);
  const rows: RelevanceRow[] = [];
  for (let n = 0; n < neurons; n++) {
    for (let rank = 0; rank < references; rank++) {
      const vector = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      let sum = 0;
      for (const x of vector) sum += Math.abs(x);
      const sampleIndex = Math.floor(random() * 1_281_167);
      rows.push({
        layer,
        lowerLayer: '/layer3/layer3.5/relu_2/Relu_output_0',
        neuron: part * neurons + n,
        rank,
        sampleIndex,
        sampleId: `train/n${String(sampleIndex % 1000).padStart(8, '0')}/img_${sampleIndex}.JPEG`,
        value: random() * 10,
        relevance: vector.map((x) => x / sum),
      });
    }
  }
  return rows;
}

const root = await mkdtemp(join(tmpdir(), 'pure-parquet-bench-'));
try {
  const store = openStore(root);
  let ms = 0;
  let bytes = 0;
  for (let part = 0; part < parts; part++) {
    const rows = partRows(part);
    const key = runKeys.layerPart('relevance', layer, { first: part * neurons, end: (part + 1) * neurons });
    const t = performance.now();
    await writeTable(store, key, relevanceSchema, rows);
    ms += performance.now() - t;
    bytes += (await stat(join(root, key))).size;
  }
  const rows = parts * neurons * references;
  const payload = rows * dims * 4;
  const perSecond = (n: number) => (n * 1000) / ms;
  console.log(
    `relevance table: ${parts} parts x ${neurons * references} rows x ${dims} floats (writeTable: Arrow + parquet-wasm zstd + local disk)`,
  );
  console.log(
    `${(ms / 1000).toFixed(2)} s: ${perSecond(rows).toFixed(0)} rows/s, ${(perSecond(bytes) / 1e6).toFixed(1)} MB/s of Parquet written (${(bytes / 1e6 / parts).toFixed(2)} MB a part, ${((100 * bytes) / payload).toFixed(0)} % of the float payload), ${(perSecond(payload) / 1e6).toFixed(1)} MB/s of float payload`,
  );
  console.log(`peak memory: ${peakMemory()}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
