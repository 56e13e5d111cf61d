import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { hwcToNormalisedChw, modelView } from '../../../core/adapters/datasets/preprocess.js';
import { AttributionEngine, heatmaps } from '../../../core/adapters/onnxruntime/attribution.js';
import { openStore } from '../../../core/adapters/storage/index.js';
import { writeJson, writeTable } from '../../../core/adapters/tables/io.js';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import { tensor } from '../../../core/compute/onnx/tensor.js';
import type { SweepConfig } from '../../../core/compute/run/config.js';
import { runKeys } from '../../../core/compute/run/layout.js';
import {
  type ClusterMethod,
  type ClusterRow,
  clustersSchema,
  type NeuronRow,
  neuronsSchema,
  type ReferenceRow,
  referencesSchema,
  type SampleRow,
  type SkippedRow,
  samplesSchema,
  skippedSchema,
} from '../../../core/compute/tables/schemas.js';
import { featureCrop, heatPlane, renderCrop } from '../../../core/compute/visualisation/crop.js';
import { escapeHtml, writeReport } from '../../../report/index.js';
import { sharedDataset, sharedModel } from '../../support/paths.js';
import { monosemanticVerdict } from '../../support/rows.js';

// Layer names with HTML special characters: every page must escape them.
const LOWER = 'low&<in>';
const UPPER = '/up<&>"layer';
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer'];
const DATA = sharedDataset('cifar10-test');

/** 20 real CIFAR-10 images (4 per class) and one reference whose file does not exist. */
const samples: SampleRow[] = [
  ...CLASSES.flatMap((label, c) =>
    [0, 1, 2, 3].map((i) => ({
      sampleIndex: c * 4 + i,
      sampleId: `${label}/000${i}.jpg`,
      sampleUri: join(DATA, label, `000${i}.jpg`),
      label,
    })),
  ),
  {
    sampleIndex: 20,
    sampleId: 'airplane/missing.jpg',
    sampleUri: join(DATA, 'airplane/missing.jpg'),
    label: 'airplane',
  },
];
const classOf = (s: SampleRow) => CLASSES.indexOf(s.label ?? '');

/** Neuron 1 is the most polysemantic (3 virtual neurons), then 2 (2), then 0 (monosemantic). */
const neurons: NeuronRow[] = [
  { n: 0, chosen: 1, poly: 0.1 },
  { n: 1, chosen: 3, poly: 0.9 },
  { n: 2, chosen: 2, poly: 0.5 },
].map(({ n, chosen, poly }) => ({
  layer: UPPER,
  lowerLayer: LOWER,
  neuron: n,
  nClusters: chosen,
  polysemanticity: poly,
  silhouettes: Float32Array.from([0.2 + n / 10, 0.4]),
  activationSilhouettes: Float32Array.from([0.1, 0.15]),
  references: 20,
  ...monosemanticVerdict(),
}));

/** References: neuron 2's rank 1 is the missing image; otherwise samples 0..19 in order. */
function referencesOf(neuron: number): SampleRow[] {
  const ok = samples.slice(0, 20);
  return neuron === 2 ? [samples[20]!, ...ok.slice(0, 19)] : ok;
}

const references: ReferenceRow[] = neurons.flatMap(({ neuron }) =>
  referencesOf(neuron).map((s, i) => ({
    layer: UPPER,
    neuron,
    rank: i + 1,
    sampleIndex: s.sampleIndex,
    sampleId: s.sampleId,
    sampleUri: s.sampleUri,
    label: s.label,
    value: 10 - i / 10,
    h: 0,
    w: 0,
  })),
);

/** PURE clusters by class (class mod n); the baseline by rank (rank mod n). */
const clusters: ClusterRow[] = neurons.flatMap(({ neuron }) =>
  [2, 3].flatMap((n) =>
    (['pure', 'activation'] as ClusterMethod[]).flatMap((method) =>
      referencesOf(neuron).map((s, i) => ({
        layer: UPPER,
        neuron,
        method,
        nClusters: n,
        rank: i + 1,
        sampleIndex: s.sampleIndex,
        cluster: method === 'pure' ? classOf(s) % n : i % n,
      })),
    ),
  ),
);

const skipped: SkippedRow[] = [
  { stage: 'references', sampleIndex: 21, sampleId: 'bad.jpg', error: 'truncated' },
];

/** The tables of a finished run for `layer` (the rows above, moved to that layer). */
async function writeRun(run: string, layer: string, config: Partial<SweepConfig>): Promise<void> {
  const store = openStore(run);
  const moved = <T extends { layer: string }>(rows: T[]) => rows.map((r) => ({ ...r, layer }));
  await writeJson(store, runKeys.config, config);
  await writeTable(store, runKeys.samples, samplesSchema, samples);
  await writeTable(store, runKeys.referencesLayer(layer), referencesSchema, moved(references));
  const all = { first: 0, end: 3 };
  await writeTable(store, runKeys.layerPart('neurons', layer, all), neuronsSchema, moved(neurons));
  await writeTable(store, runKeys.layerPart('clusters', layer, all), clustersSchema, moved(clusters));
  await writeTable(store, runKeys.skipped('references'), skippedSchema, skipped);
}

describe('pure report', () => {
  let dir: string;
  let run: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-report-'));
    run = join(dir, 'run-1');
    await writeRun(run, UPPER, {
      runId: 'run-1',
      modelUri: '/models/m<odel>.onnx',
      dataUri: DATA,
      outUri: dir,
      layers: [LOWER, UPPER],
      k: 20,
      clusterCounts: [2, 3],
    });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('escapeHtml escapes the five special characters', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  test('writes an index, a page per explained layer and 64x64 thumbnails (without crops)', async () => {
    const result = await writeReport(run, { crops: false });
    assert.equal(result.indexLocation, join(run, 'report', 'index.html'));
    assert.deepEqual(
      result.layers.map((l) => [l.layer, l.index, l.page, l.neurons, l.shown]),
      [[UPPER, 1, 'report/layer-1.html', 3, 3]],
    );
    assert.equal(result.failedImages, 1, 'the missing reference image is reported, not fatal');

    const index = await readFile(result.indexLocation, 'utf8');
    assert.ok(index.includes(escapeHtml(UPPER)), 'the layer is listed, escaped');
    assert.ok(!index.includes(UPPER) && !index.includes(LOWER), 'no raw special characters from names');
    assert.ok(index.includes('m&lt;odel&gt;.onnx'));
    assert.match(index, /<dt>images<\/dt><dd>21<\/dd>/);
    assert.match(index, /<dt>skipped images<\/dt><dd>1 \(references: 1\)<\/dd>/);
    const order = [...index.matchAll(/<tr data-neuron="(\d+)">/g)].map((m) => Number(m[1]));
    assert.deepEqual(order, [1, 2, 0], 'neurons by polysemanticity, most polysemantic first');
    assert.ok(index.includes('href="layer-1.html#neuron-1"'));
    assert.ok(!/<script|https?:\/\//.test(index), 'no scripts, no network fetches');

    const layerHtml = await readFile(join(run, 'report', 'layer-1.html'), 'utf8');
    assert.ok(layerHtml.includes(escapeHtml(UPPER)) && !layerHtml.includes(UPPER));
    assert.ok(!/<script|https?:\/\//.test(layerHtml));
    const sections = layerHtml.split('<section class="neuron"').slice(1);
    const shown = sections.map((s) => {
      const m = /data-neuron="(\d+)" data-shown-clusters="(\d+)"/.exec(s);
      return [Number(m?.[1]), Number(m?.[2])];
    });
    assert.deepEqual(shown, [
      [1, 3],
      [2, 2],
      [0, 2],
    ]);
    for (const [i, section] of sections.entries()) {
      const [pure = '', activation = ''] = section.split('data-method="activation"');
      const count = shown[i]![1]!;
      assert.equal(pure.match(/class="vn"/g)?.length, count, 'one block per virtual neuron (PURE)');
      assert.equal(activation.match(/class="vn"/g)?.length, count, 'one block per cluster (baseline)');
      for (const vn of section.split('class="vn"').slice(1)) {
        const thumbs = (vn.match(/<img /g) ?? []).length + (vn.match(/class="missing"/g) ?? []).length;
        assert.ok(thumbs >= 1 && thumbs <= 8, `1..8 thumbnails per virtual neuron, got ${thumbs}`);
      }
    }
    assert.ok(sections[2]!.includes('Automatic choice: 1 (monosemantic)'), 'the fallback split is labelled');
    assert.ok(!sections[0]!.includes('Automatic choice'));
    // Neuron 1, PURE, 3 clusters by class mod 3: {airplane, cat}, {automobile, deer}, {bird}.
    const members = [...sections[0]!.split('data-method="activation"')[0]!.matchAll(/<b>(\d+)<\/b> images/g)];
    assert.deepEqual(
      members.map((m) => Number(m[1])),
      [8, 8, 4],
    );
    assert.ok(sections[0]!.includes('main label <b>airplane</b> (4/8)'));
    // Neuron 2's top reference is missing: a grey box instead of a broken image.
    assert.ok(sections[1]!.includes('class="missing"'));
    assert.ok(!layerHtml.includes('src="img/20.png"'));

    const srcs = new Set([...layerHtml.matchAll(/<img src="(img\/\d+\.png)"/g)].map((m) => m[1]!));
    assert.equal(srcs.size, 20, 'each real image once');
    assert.equal(result.images, 20);
    for (const src of srcs) {
      const file = join(run, 'report', src);
      assert.ok(existsSync(file), `${src} exists`);
      const meta = await sharp(file).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 64, 64], src);
    }
  });

  test('--top limits the neurons on the layer page', async () => {
    const result = await writeReport(run, { top: 1, crops: false });
    assert.equal(result.layers[0]?.shown, 1);
    const layerHtml = await readFile(join(run, 'report', 'layer-1.html'), 'utf8');
    assert.equal(layerHtml.split('<section class="neuron"').length - 1, 1);
    assert.ok(layerHtml.includes('id="neuron-1"'));
    const index = await readFile(result.indexLocation, 'utf8');
    assert.ok(index.includes('href="layer-1.html#neuron-1"') && !index.includes('#neuron-2"'));
  });
});

/**
 * Crops on a real model: the same tables for a real ResNet-20 layer. Each picture must be the neuron's own
 * heatmap crop of its image: recomputed here from the engine and the crop functions (each checked on its
 * own elsewhere), this catches a wrong layer, channel, image or preprocessing between them.
 */
describe('pure report with heatmap crops', () => {
  const LAYER = '/layer3/layer3.2/Relu_1_output_0';
  let dir: string;
  let run: string;
  const preprocess = PREPROCESS_PRESETS.cifar10;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-report-crops-'));
    run = join(dir, 'run-2');
    await writeRun(run, LAYER, {
      runId: 'run-2',
      modelUri: sharedModel('resnet20-cifar10.onnx'),
      dataUri: DATA,
      outUri: dir,
      layers: ['/layer2/layer2.2/Relu_1_output_0', LAYER],
      k: 20,
      clusterCounts: [2, 3],
      preprocess,
    });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("every picture is the neuron's own crop of its image", async () => {
    const progress: [number, number][] = [];
    const result = await writeReport(run, { top: 2, onCropProgress: (d, t) => progress.push([d, t]) });
    assert.equal(result.failedImages, 1, 'the missing image is a grey box, not a failure');
    const total = result.images + result.failedImages;
    assert.deepEqual(progress.at(-1), [total, total]);
    assert.ok(
      progress.every(([d], i) => i === 0 || d > progress[i - 1]![0]),
      'progress only grows',
    );
    const layerHtml = await readFile(join(run, 'report', 'layer-1.html'), 'utf8');
    assert.match(layerHtml, /cropped to what the neuron looks at/);
    const srcs = [
      ...new Set([...layerHtml.matchAll(/<img src="(crops\/1\/(\d+)\/(\d+)\.png)"/g)].map((m) => m[1]!)),
    ];
    // Neurons 1 and 2 are shown, up to 8 images per virtual neuron, some images under both.
    assert.equal(result.images, srcs.length);
    assert.ok(srcs.some((s) => s.startsWith('crops/1/1/')) && srcs.some((s) => s.startsWith('crops/1/2/')));

    const engine = new AttributionEngine({ intraOpNumThreads: 1 });
    try {
      for (const src of [srcs[0]!, srcs[srcs.length - 1]!]) {
        const [, neuron, sampleIndex] = /crops\/1\/(\d+)\/(\d+)\.png/.exec(src)!.map(Number) as [
          number,
          number,
          number,
        ];
        const file = join(run, 'report', src);
        const png = await sharp(file).raw().toBuffer({ resolveWithObject: true });
        assert.deepEqual([png.info.width, png.info.height], [64, 64]);

        const view = await modelView(await readFile(samples[sampleIndex]!.sampleUri), preprocess);
        const images = tensor('float32', [1, 3, 32, 32], hwcToNormalisedChw(view, 32, 32, preprocess));
        const { heat } = await heatmaps(
          engine,
          { model: sharedModel('resnet20-cifar10.onnx'), layer: LAYER },
          { images, channels: [neuron] },
          { composite: 'epsilon-plus-flat', region: 'map' },
        );
        const crop = featureCrop(heatPlane(heat.data as Float32Array, 0, 32, 32), 32, 32);
        const expected = await sharp(renderCrop(view, 32, crop), {
          raw: { width: crop.box.size, height: crop.box.size, channels: 3 },
        })
          .resize(64, 64, { kernel: 'nearest' })
          .raw()
          .toBuffer();
        assert.ok(Buffer.compare(png.data.subarray(0, expected.length), expected) === 0, `${src} differs`);
      }
    } finally {
      await engine.release();
    }
    // A neuron sees each image its own way: the same image under two neurons gives two pictures.
    const a = await readFile(join(run, 'report', 'crops/1/1/0.png'));
    const b = await readFile(join(run, 'report', 'crops/1/2/0.png'));
    assert.notDeepEqual(a, b);
  });

  test('a model that cannot be read fails with the way out', async () => {
    const store = openStore(run);
    const config = JSON.parse(new TextDecoder().decode(await store.get(runKeys.config))) as SweepConfig;
    await writeJson(store, runKeys.config, { ...config, modelUri: join(dir, 'gone.onnx') });
    try {
      await assert.rejects(writeReport(run, { top: 1 }), /gone\.onnx.*--no-crops/s);
    } finally {
      await writeJson(store, runKeys.config, config);
    }
  });
});
