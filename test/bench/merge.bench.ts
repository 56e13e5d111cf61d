/**
 * Benchmark of the references merge at ImageNet scale: one layer's shard parts merged into its top-k by
 * the real stage (`mergeReferences`: `readTable` of each part, the streaming fold, `writeTable` of the
 * result into a local folder store from `openStore`). Prints one line: the process's peak RSS and the
 * merge's time.
 *
 *   npm run bench:merge -- --shards 1000 --channels 2048 --k 100 [--images 1000000]
 *
 * What is synthetic: no model runs and no shard part is stored. The store the merge reads from wraps a
 * real local folder store (which receives the merged part); its `get()` of shard i's part asks a child
 * process for it, which builds it deterministically from a seed per shard and encodes it with the Parquet
 * writer `writeTable` uses (`toParquet`, zstd, about 2.3 MB for 204,800 rows): per channel k distinct
 * samples of the shard (the images split evenly over the shards), ranked as `referencesShard` writes
 * them, values quantised to 1/1024 so that equal values across shards are common and ties are broken by
 * sample index. Sample ids and URIs are fixed-width ImageNet-like paths built from the sample index
 * (`n<class>/img_<index>.JPEG`, 1000 classes), so every shard holds distinct samples with distinct
 * metadata. Writing 1000 such parts first would cost about 10 minutes and 2.3 GB of disk per run, hence
 * generation at read time.
 *
 * What is measured: the time is the wall time of `mergeReferences` minus the time `get()` waits for the
 * generator (generation, encoding and the copy between processes); the peak RSS is this process's
 * (`process.resourceUsage().maxRSS`, which leaves the generator out): the merge, plus Node, Arrow and
 * parquet-wasm. Run without flags: Node's default heap.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeData, makeVector, Table, Utf8, type Vector } from 'apache-arrow';
import { openStore } from '../../core/adapters/storage/index.js';
import type { ObjectStore, PutOptions } from '../../core/adapters/storage/types.js';
import { toParquet } from '../../core/adapters/tables/parquet.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import { createRandom } from '../../core/compute/random.js';
import { compareCandidates } from '../../core/compute/references/topk.js';
import { type ShardRange, shardRanges } from '../../core/compute/run/config.js';
import { runKeys } from '../../core/compute/run/layout.js';
import { referencesSchema } from '../../core/compute/tables/schemas.js';
import { mergeReferences } from '../../core/stages/references.js';
import { testConfig } from '../support/config.js';

const { values: args } = parseArgs({
  options: {
    shards: { type: 'string', default: '1000' },
    channels: { type: 'string', default: '2048' },
    k: { type: 'string', default: '100' },
    images: { type: 'string', default: '1000000' },
    /** Internal: run as the process that generates the parts. */
    generator: { type: 'boolean', default: false },
  },
});
const shardCount = Number(args.shards);
const channels = Number(args.channels);
const k = Number(args.k);
const images = Number(args.images);
for (const [name, value] of Object.entries({ shards: shardCount, channels, k, images })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}
const shardSize = Math.ceil(images / shardCount);
if (images > 99_999_999) throw new Error('--images must fit the 8-digit sample ids');

const LAYER = '/layer4/layer4.2/relu_2/Relu_output_0'; // a ResNet-50 layer4 output: 2048 channels
const URI_PREFIX = '/data/imagenet/train/';

/** A utf8 column of fixed-width ASCII strings, written straight into its bytes: no per-row string. */
function fixedWidthUtf8(
  rows: number,
  width: number,
  write: (bytes: Uint8Array, at: number, row: number) => void,
) {
  const bytes = new Uint8Array(rows * width);
  const offsets = new Int32Array(rows + 1);
  for (let row = 0; row < rows; row++) {
    write(bytes, row * width, row);
    offsets[row + 1] = (row + 1) * width;
  }
  return makeVector(
    makeData({ type: new Utf8(), length: rows, nullCount: 0, valueOffsets: offsets, data: bytes }),
  );
}

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

function writeDigits(bytes: Uint8Array, at: number, value: number, digits: number): void {
  for (let d = digits - 1; d >= 0; d--) {
    bytes[at + d] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
}

const SAMPLE_ID = ascii('n00000000/img_00000000.JPEG');

/** `n<8-digit class>/img_<8-digit index>.JPEG`, 27 bytes. */
function writeSampleId(bytes: Uint8Array, at: number, sampleIndex: number): void {
  bytes.set(SAMPLE_ID, at);
  writeDigits(bytes, at + 1, sampleIndex % 1000, 8);
  writeDigits(bytes, at + 14, sampleIndex, 8);
}

/** Shard `shard`'s part of the layer: per channel the shard's top-k, ranked; Parquet as writeTable writes it. */
function syntheticPart(shardIndex: number, shard: ShardRange): Uint8Array {
  const random = createRandom(shardIndex * 7919 + 1);
  const rows = channels * k;
  const neuron = new Int32Array(rows);
  const rank = new Int32Array(rows);
  const sampleIndex = new Int32Array(rows);
  const value = new Float32Array(rows);
  const h = new Int32Array(rows);
  const w = new Int32Array(rows);
  const size = shard.end - shard.first;
  const positions = Int32Array.from({ length: size }, (_, i) => i);
  const chosen = Array.from({ length: k }, () => ({ value: 0, sampleIndex: 0, h: 0, w: 0 }));
  for (let c = 0; c < channels; c++) {
    // k distinct samples of the shard (a partial Fisher-Yates shuffle), in the stage's rank order.
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(random() * (size - i));
      const p = positions[j]!;
      positions[j] = positions[i]!;
      positions[i] = p;
      const candidate = chosen[i]!;
      candidate.sampleIndex = shard.first + p;
      candidate.value = Math.floor(random() * 8192) / 1024;
      candidate.h = Math.floor(random() * 7);
      candidate.w = Math.floor(random() * 7);
    }
    chosen.sort(compareCandidates);
    for (let i = 0; i < k; i++) {
      const row = c * k + i;
      const candidate = chosen[i]!;
      neuron[row] = c;
      rank[row] = i + 1;
      sampleIndex[row] = candidate.sampleIndex;
      value[row] = candidate.value;
      h[row] = candidate.h;
      w[row] = candidate.w;
    }
  }
  const layer = ascii(LAYER);
  const uriPrefix = ascii(URI_PREFIX);
  const columns: Record<string, Vector> = {
    layer: fixedWidthUtf8(rows, layer.length, (bytes, at) => bytes.set(layer, at)),
    neuron: makeVector(neuron),
    rank: makeVector(rank),
    sample_index: makeVector(sampleIndex),
    sample_id: fixedWidthUtf8(rows, SAMPLE_ID.length, (bytes, at, row) =>
      writeSampleId(bytes, at, sampleIndex[row]!),
    ),
    sample_uri: fixedWidthUtf8(rows, uriPrefix.length + SAMPLE_ID.length, (bytes, at, row) => {
      bytes.set(uriPrefix, at);
      writeSampleId(bytes, at + uriPrefix.length, sampleIndex[row]!);
    }),
    label: fixedWidthUtf8(rows, 9, (bytes, at, row) => {
      bytes[at] = 110; // 'n'
      writeDigits(bytes, at + 1, sampleIndex[row]! % 1000, 8);
    }),
    value: makeVector(value),
    h: makeVector(h),
    w: makeVector(w),
  };
  const names = referencesSchema.columns.map((c) => c.name);
  if (names.join() !== Object.keys(columns).join()) throw new Error(`references columns changed: ${names}`);
  return toParquet(new Table(columns), { metadata: { 'pure.table': referencesSchema.name } });
}

/** A request to the generator process: one shard's part. */
interface PartRequest {
  shard: number;
  range: ShardRange;
}

/**
 * The generator: a child process that answers each request with the part's Parquet bytes, so that
 * generating them costs the measured process neither memory nor (after subtracting the wait) time.
 */
function serveParts(): void {
  process.on('message', (request: PartRequest) => {
    process.send!({ shard: request.shard, bytes: syntheticPart(request.shard, request.range) });
  });
}

/** A local folder store whose shard parts of the layer come from the generator when read (see the header). */
class SyntheticShardStore implements ObjectStore {
  readonly uri: string;
  /** Seconds spent waiting for the generator, taken off the merge's time. */
  waitSeconds = 0;
  private readonly shardOfKey = new Map<string, number>();
  private readonly pending = new Map<number, (bytes: Uint8Array) => void>();

  constructor(
    private readonly inner: ObjectStore,
    private readonly shards: readonly ShardRange[],
    private readonly generator: ChildProcess,
  ) {
    this.uri = inner.uri;
    shards.forEach((shard, i) => {
      this.shardOfKey.set(runKeys.referencesShard(shard, LAYER), i);
    });
    generator.on('message', (reply: { shard: number; bytes: Uint8Array }) => {
      const resolve = this.pending.get(reply.shard);
      this.pending.delete(reply.shard);
      resolve?.(reply.bytes);
    });
  }

  async get(key: string): Promise<Uint8Array> {
    const shard = this.shardOfKey.get(key);
    if (shard === undefined) return this.inner.get(key);
    const start = process.hrtime.bigint();
    const bytes = await new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(shard, resolve);
      const request: PartRequest = { shard, range: this.shards[shard]! };
      this.generator.send(request, (error) => {
        if (error) reject(error);
      });
    });
    this.waitSeconds += Number(process.hrtime.bigint() - start) / 1e9;
    return bytes;
  }

  async getRange(key: string, start: number, endExclusive: number): Promise<Uint8Array> {
    if (!this.shardOfKey.has(key)) return this.inner.getRange(key, start, endExclusive);
    return (await this.get(key)).subarray(start, endExclusive);
  }

  async exists(key: string): Promise<boolean> {
    return this.shardOfKey.has(key) || this.inner.exists(key);
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    if (!this.shardOfKey.has(key)) return this.inner.stat(key);
    return { size: (await this.get(key)).length };
  }

  put(key: string, body: Uint8Array, opts?: PutOptions): Promise<void> {
    return this.inner.put(key, body, opts);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

async function main(): Promise<void> {
  const shards = shardRanges(images, shardSize);
  if (shards.some((s) => s.end - s.first < k)) throw new Error(`a shard holds fewer than k = ${k} images`);
  const dir = await mkdtemp(join(tmpdir(), 'pure-merge-bench-'));
  const generator = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--generator'], {
    serialization: 'advanced',
    stdio: 'inherit',
  });
  try {
    const store = new SyntheticShardStore(openStore(dir), shards, generator);
    const config = testConfig({
      runId: 'bench',
      modelUri: 'resnet50.onnx',
      dataUri: 'imagenet',
      outUri: dir,
      layers: [LAYER],
      preprocess: PREPROCESS_PRESETS.imagenet,
      k,
    });
    const layer = { name: LAYER, dims: [channels, 7, 7], channels };
    const start = process.hrtime.bigint();
    const merged = await mergeReferences(config, layer, shards, store);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9 - store.waitSeconds;
    if (merged.rows !== channels * k) throw new Error(`merged ${merged.rows} rows, expected ${channels * k}`);
    const peakMb = process.resourceUsage().maxRSS / 1024;
    console.log(`merge peak RSS ${Math.round(peakMb)} MB, ${seconds.toFixed(1)} s`);
  } finally {
    generator.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

if (args.generator) serveParts();
else await main();
