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
import { defineTable, type TableSchema } from '../../../core/compute/tables/schema.js';
import {
  type ClusterMethod,
  type ClusterRow,
  clustersSchema,
  type EvaluationRow,
  evaluationSchema,
  type NeuronRow,
  neuronsSchema,
  type ReferenceRow,
  type RelevanceRow,
  referencesSchema,
  relevanceSchema,
  type SampleRow,
  type SkippedRow,
  samplesSchema,
  skippedSchema,
  type VirtualNeuronRow,
  virtualNeuronsSchema,
} from '../../../core/compute/tables/schemas.js';
import { featureCrop, heatPlane, renderCrop } from '../../../core/compute/visualisation/crop.js';
import { heatOverlay } from '../../../core/compute/visualisation/overlay.js';
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

/** The verdict of a neuron split in `count` (of candidates 2, 3), with P at that count; as the pipeline words it. */
function splitVerdict(count: number, evidence: number[], polysemanticity: number[]) {
  const best = Math.max(...evidence);
  const p = polysemanticity[count - 2]!;
  return {
    bestCount: count,
    evidence: best,
    candidateEvidence: Float32Array.from(evidence),
    candidatePolysemanticity: Float32Array.from(polysemanticity),
    evidenceThreshold: 4,
    polysemanticityThreshold: 0.5,
    coherenceGain: null,
    coherencePValue: null,
    verdictBy: 'circuits' as const,
    decision: `split in ${count}: evidence ${best.toFixed(1)} >= 4, P ${p.toFixed(2)} >= 0.5`,
  };
}

/**
 * Neuron 1 is the most polysemantic (3 virtual neurons), then 2 (2), then 0 (monosemantic): each with
 * the verdict that explains it.
 */
const neurons: NeuronRow[] = [
  { n: 0, chosen: 1, poly: 0.1, verdict: monosemanticVerdict() },
  { n: 1, chosen: 3, poly: 0.9, verdict: splitVerdict(3, [5, 6.1], [0.4, 0.9]) },
  { n: 2, chosen: 2, poly: 0.5, verdict: splitVerdict(2, [4.5, 2], [0.5, 0.2]) },
].map(({ n, chosen, poly, verdict }) => ({
  layer: UPPER,
  lowerLayer: LOWER,
  neuron: n,
  nClusters: chosen,
  polysemanticity: poly,
  silhouettes: Float32Array.from([0.2 + n / 10, 0.4]),
  activationSilhouettes: Float32Array.from([0.1, 0.15]),
  references: 20,
  ...verdict,
}));

/** The neurons table as runs wrote it before the verdict columns. */
const VERDICT_COLUMNS = new Set(Object.keys(monosemanticVerdict()));
const neuronsWithoutVerdicts = defineTable(
  'neurons',
  neuronsSchema.columns.filter((c) => !VERDICT_COLUMNS.has(c.field)),
) as unknown as TableSchema<NeuronRow>;

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

/**
 * PURE's p-value: neuron 1 significant at both counts, neuron 0 (kept whole; best count 3 in the evaluated
 * run) at 3 only, neuron 2 never.
 */
function purePValue(neuron: number, count: number): number {
  if (neuron === 1) return 0.01;
  return neuron === 0 && count === 3 ? 0.04 : 0.3;
}

/** Evaluation rows with numbers easy to check: PURE's inner at 2 clusters is 1.02, 2.02, 3.02 for neurons 0..2. */
const evaluationRows: EvaluationRow[] = neurons.flatMap(({ neuron }) =>
  [2, 3].flatMap((nClusters) =>
    (['pure', 'activation', 'embedding', 'random'] as const).map((method, m) => ({
      layer: UPPER,
      neuron,
      method,
      nClusters,
      inner: 1 + neuron + m / 10 + nClusters / 100,
      inter: 3 + neuron,
      overall: 2.5,
      labelPurity: method === 'random' ? 0.3 : 0.5 + neuron / 10,
      nullInnerMean: 2,
      nullInnerSd: 0.1,
      coherenceGain: method === 'random' ? 0 : 0.1 * (neuron + 1),
      pValue: method === 'random' ? null : method === 'pure' ? purePValue(neuron, nClusters) : 0.5,
    })),
  ),
);

/** One virtual_neurons row per cluster of `clusters`, its size counted, its label named after its id. */
const virtualNeuronRows: VirtualNeuronRow[] = [
  ...clusters
    .reduce((out, c) => {
      const key = `${c.neuron}/${c.method}/${c.nClusters}/${c.cluster}`;
      const row = out.get(key) ?? {
        ...{ layer: c.layer, neuron: c.neuron, method: c.method, nClusters: c.nClusters, cluster: c.cluster },
        ...{ size: 0, inner: 1.5, majorityLabel: `majority-${c.cluster}`, labelPurity: 0.75 },
      };
      row.size += 1;
      return out.set(key, row);
    }, new Map<string, VirtualNeuronRow>())
    .values(),
];

/** A page of the report, relative to `report/`. */
const readPage = (run: string, path: string) => readFile(join(run, 'report', path), 'utf8');
/** The page of neuron `n` of layer 1. */
const neuronPageOf = (run: string, n: number) => readPage(run, `layer-1/neuron-${n}.html`);
/** A neuron page's two galleries: PURE's and the Activation baseline's. */
const galleriesOf = (html: string): [string, string] => {
  const [, afterPure = ''] = html.split('<div class="gallery" data-method="pure">');
  const [pure = '', activation = ''] = afterPure.split('<div class="gallery" data-method="activation">');
  return [pure, activation];
};
/** The row of a table that carries these data attributes. */
const rowOf = (html: string, attributes: string) => {
  const start = html.indexOf(`<tr ${attributes}`);
  assert.ok(start >= 0, `a row with ${attributes}`);
  return html.slice(start, html.indexOf('</tr>', start));
};
/** No page loads anything but the report's own assets and pictures. */
const assertSelfContained = (html: string, root = '') => {
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no remote resources or links');
  assert.deepEqual(
    [...html.matchAll(/<script[^>]*>/g)].map((m) => m[0]),
    [`<script src="${root}assets/report.js" defer>`],
    "one script: the report's own",
  );
};

/**
 * Relevance over the 5 channels of LOWER: 0.6 at the image's class, 0.1 elsewhere (sum |R| = 1, as the
 * pipeline writes them). A virtual neuron of classes {airplane, cat} has mean 0.35 at channels 0 and 3.
 */
const relevanceRows = (layer: string, lowerLayer: string): RelevanceRow[] =>
  neurons.flatMap(({ neuron }) =>
    referencesOf(neuron).map((s, i) => ({
      layer,
      lowerLayer,
      neuron,
      rank: i + 1,
      sampleIndex: s.sampleIndex,
      sampleId: s.sampleId,
      value: 1,
      relevance: Float32Array.from(CLASSES, (_, c) => (c === classOf(s) ? 0.6 : 0.1)),
    })),
  );

/** How a test run's tables differ from the rows above. */
interface RunVariant {
  /** The neurons rows (default: those above). */
  neuronRows?: NeuronRow[];
  /** Neurons written without the verdict columns, as older runs did: all, or those below this one. */
  withoutVerdicts?: 'all' | number;
  /** Evaluation and virtual-neuron rows (a run with an evaluator). */
  evaluation?: { rows: EvaluationRow[]; virtualNeurons: VirtualNeuronRow[] };
}

/** The tables of a finished run for `layer` (the rows above, moved to that layer). */
async function writeRun(
  run: string,
  layer: string,
  config: Partial<SweepConfig>,
  variant: RunVariant = {},
): Promise<void> {
  const store = openStore(run);
  const moved = <T extends { layer: string }>(rows: T[]) => rows.map((r) => ({ ...r, layer }));
  await writeJson(store, runKeys.config, config);
  await writeTable(store, runKeys.samples, samplesSchema, samples);
  await writeTable(store, runKeys.referencesLayer(layer), referencesSchema, moved(references));
  const all = { first: 0, end: 3 };
  await writeNeurons(store, layer, moved(variant.neuronRows ?? neurons), variant.withoutVerdicts);
  await writeTable(store, runKeys.layerPart('clusters', layer, all), clustersSchema, moved(clusters));
  await writeTable(store, runKeys.skipped('references'), skippedSchema, skipped);
  const lowerLayer = config.layers?.[config.layers.indexOf(layer) - 1] ?? 'input';
  await writeTable(
    store,
    runKeys.layerPart('relevance', layer, all),
    relevanceSchema,
    relevanceRows(layer, lowerLayer),
  );
  if (variant.evaluation) {
    const { rows, virtualNeurons } = variant.evaluation;
    await writeTable(store, runKeys.layerPart('evaluation', layer, all), evaluationSchema, moved(rows));
    await writeTable(
      store,
      runKeys.layerPart('virtual_neurons', layer, all),
      virtualNeuronsSchema,
      moved(virtualNeurons),
    );
  }
}

/** The neurons table: one part, or (`withoutVerdicts` a neuron) an old part below it and a new one from it. */
async function writeNeurons(
  store: ReturnType<typeof openStore>,
  layer: string,
  rows: NeuronRow[],
  withoutVerdicts?: 'all' | number,
): Promise<void> {
  if (withoutVerdicts === undefined || withoutVerdicts === 'all') {
    const schema = withoutVerdicts === 'all' ? neuronsWithoutVerdicts : neuronsSchema;
    await writeTable(store, runKeys.layerPart('neurons', layer, { first: 0, end: 3 }), schema, rows);
    return;
  }
  const old = { first: 0, end: withoutVerdicts };
  const fresh = { first: withoutVerdicts, end: 3 };
  const part = (range: { first: number; end: number }) =>
    rows.filter((r) => r.neuron >= range.first && r.neuron < range.end);
  await writeTable(store, runKeys.layerPart('neurons', layer, old), neuronsWithoutVerdicts, part(old));
  await writeTable(store, runKeys.layerPart('neurons', layer, fresh), neuronsSchema, part(fresh));
}

describe('pure report', () => {
  let dir: string;
  let run: string;
  let result: Awaited<ReturnType<typeof writeReport>>;
  let index: string;
  let layerIndex: string;

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
      preprocess: PREPROCESS_PRESETS.cifar10,
    });
    result = await writeReport(run, { crops: false });
    index = await readFile(result.indexLocation, 'utf8');
    layerIndex = await readPage(run, 'layer-1.html');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('escapeHtml escapes the five special characters', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  test('the overview: the run, per layer its numbers, plots and top neurons, and what the scores mean', () => {
    assert.equal(result.indexLocation, join(run, 'report', 'index.html'));
    assert.deepEqual(
      result.layers.map((l) => [l.layer, l.index, l.page, l.neurons, l.heatmapped]),
      [[UPPER, 1, 'report/layer-1.html', 3, 0]],
    );
    assert.equal(result.failedImages, 1, 'the missing reference image is reported, not fatal');
    assert.ok(index.includes(escapeHtml(UPPER)), 'the layer is listed, escaped');
    assert.ok(!index.includes(UPPER) && !index.includes(LOWER), 'no raw special characters from names');
    assert.ok(index.includes('m&lt;odel&gt;.onnx'));
    assert.match(index, /<dt>images<\/dt><dd>21<\/dd>/);
    assert.match(index, /<dt>skipped images<\/dt><dd>1 \(references: 1\)<\/dd>/);
    assert.ok(index.includes('3 neurons; <b>2</b> split into <b>5</b> virtual neurons, 1 kept whole.'));
    const overview = index.slice(index.indexOf('<section data-test="overview">'));
    assert.equal(
      overview.match(/<figure class="chart [^"]*"><svg /g)?.length,
      2,
      'distribution, split counts',
    );
    assert.ok(index.includes('href="layer-1.html"'));
    const top = [...index.matchAll(/<a href="layer-1\/neuron-(\d+)\.html">/g)].map((m) => Number(m[1]));
    assert.deepEqual(top, [1, 2, 0], 'the most polysemantic neurons first');
    assert.ok(
      index.includes('<h2>What the scores mean</h2>') && index.includes('<dt>polysemanticity P</dt>'),
    );
    assertSelfContained(index);
  });

  test('the layer index lists every neuron, sortable and paginated, each linked to its page', () => {
    const order = [...layerIndex.matchAll(/<tr data-neuron="(\d+)">/g)].map((m) => Number(m[1]));
    assert.deepEqual(order, [1, 2, 0], 'neurons by polysemanticity, most polysemantic first');
    assert.ok(layerIndex.includes('class="neuron-index sortable" data-page-size="50"'));
    assert.ok(layerIndex.includes('<input type="search" id="neuron-search" data-search-for="neurons-1"'));
    assert.equal(layerIndex.match(/<th data-sort>/g)?.length, 6, 'every column sorts');
    const one = rowOf(layerIndex, 'data-neuron="1"');
    assert.ok(one.includes('<a href="layer-1/neuron-1.html">1</a>'));
    assert.ok(one.includes('<td class="num" data-value="0.9">0.900</td>'), one);
    assert.ok(one.includes('<td>airplane 50 % · automobile 50 % · bird 100 %</td>'), 'PURE main labels');
    assert.ok(
      rowOf(layerIndex, 'data-neuron="2"').includes(
        escapeHtml('split in 2: evidence 4.5 >= 4, P 0.50 >= 0.5'),
      ),
    );
    assert.ok(!layerIndex.includes('PURE p-value'), 'no evaluation columns without an evaluation');
    assertSelfContained(layerIndex);
  });

  test('a neuron page shows its virtual neurons beside the baseline, with pictures, labels and verdict', async () => {
    const one = await neuronPageOf(run, 1);
    assertSelfContained(one, '../');
    assert.ok(
      one.includes('<a href="../index.html">run run-1</a>') && one.includes('href="../layer-1.html"'),
    );
    assert.ok(one.includes('href="neuron-2.html" rel="next"') && !one.includes('rel="previous"'));
    const [pure, activation] = galleriesOf(one);
    assert.equal(pure.match(/class="vn"/g)?.length, 3, 'one block per virtual neuron (PURE)');
    assert.equal(activation.match(/class="vn"/g)?.length, 3, 'one block per cluster (baseline)');
    // PURE, 3 clusters by class mod 3: {airplane, cat}, {automobile, deer}, {bird}.
    assert.deepEqual(
      [...pure.matchAll(/<b>(\d+)<\/b> images/g)].map((m) => Number(m[1])),
      [8, 8, 4],
    );
    assert.ok(pure.includes('main label <b>airplane</b> (4/8)'));
    assert.ok(pure.includes('title="airplane: 4 of 8"') && pure.includes('title="cat: 4 of 8"'), 'label mix');
    for (const vn of [...pure.split('class="vn"').slice(1), ...activation.split('class="vn"').slice(1)]) {
      const thumbs = vn.match(/<a class="zoom"/g)?.length ?? 0;
      assert.ok(thumbs >= 1 && thumbs <= 8, `1..8 thumbnails per virtual neuron, got ${thumbs}`);
    }
    assert.match(
      one,
      /<a class="zoom" href="\.\.\/img\/0-view\.png" data-caption="#1 airplane\/0000\.jpg \(airplane\)"><img src="\.\.\/img\/0\.png"/,
    );
    assert.ok(one.includes('<dialog id="zoom">'));
    // The verdict: the decision, the gates and the candidate counts, the best one marked.
    assert.ok(one.includes(escapeHtml('split in 3: evidence 6.1 >= 4, P 0.90 >= 0.5')));
    assert.ok(one.includes('<th class="num best">3 (best)</th>'));
    assert.ok(one.includes('evidence gate: max <b>6.10</b> ≥ 4? <span class="pass">passed</span>'));
    assert.ok(one.includes('P gate: <b>0.90</b> at 3 clusters ≥ 0.5? <span class="pass">passed</span>'));
    assert.ok(one.includes('<td class="num pass">5.000</td><td class="num best pass">6.100</td>'));
    assert.ok(!one.includes('Automatic choice'));
    assert.ok(!/class="evaluation"|data-significant/.test(one), 'no evaluation');

    const zero = await neuronPageOf(run, 0);
    assert.ok(zero.includes('Automatic choice: 1 (monosemantic); showing the 2-cluster split'));
    assert.ok(zero.includes(escapeHtml('monosemantic: evidence 1.0 < 4')));
    assert.ok(zero.includes('evidence gate: max <b>1.00</b> ≥ 4? <span class="fail">failed</span>'));
    assert.ok(zero.includes('rel="previous"') && !zero.includes('rel="next"'));
  });

  test("a PURE virtual neuron's circuit: its top lower-layer channels by mean relevance", async () => {
    const [pure] = galleriesOf(await neuronPageOf(run, 1));
    const circuits = pure
      .split('class="vn"')
      .slice(1)
      .map((vn) => [...vn.matchAll(/<tr data-channel="(\d+)">/g)].map((m) => Number(m[1])));
    // {airplane, cat}: 0.35 at channels 0 and 3, 0.1 elsewhere; {bird}: 0.6 at channel 2.
    assert.deepEqual(circuits, [
      [0, 3, 1, 2, 4],
      [1, 4, 0, 2, 3],
      [2, 0, 1, 3, 4],
    ]);
    assert.ok(
      pure.includes(
        '<tr data-channel="0"><td class="num">0</td><td class="num">0.350</td><td class="num">35.0 %</td>',
      ),
    );
    assert.ok(!pure.includes('href="../layer-0/'), 'the lower layer was not explained: no links');
  });

  test('a neuron page draws its candidate curve and the map of its circuit vectors', async () => {
    const one = await neuronPageOf(run, 1);
    assert.match(one, /<figure class="chart candidate-curve"><svg /);
    const map = /<figure class="chart circuit-map">(<svg [\s\S]*?<\/svg>)/.exec(one)?.[1] ?? '';
    assert.ok(map.length > 0, 'a circuit map');
    assert.equal(
      map.match(/rank \d+, [a-z]+, virtual neuron \d, activation cluster \d/g)?.length,
      20,
      'one point per reference',
    );
    const again = await neuronPageOf(run, 1);
    assert.equal(again, one, 'the same page from the same run');
  });

  test('pictures: each image once as a 64-pixel thumbnail and as the model sees it; a missing one is a grey box', async () => {
    const two = await neuronPageOf(run, 2);
    assert.ok(two.includes('class="missing"'), "neuron 2's top reference is missing");
    assert.ok(!two.includes('img/20.png') && !two.includes('img/20-view.png'));
    const pages = await Promise.all([0, 1, 2].map((n) => neuronPageOf(run, n)));
    const srcs = new Set(
      pages.flatMap((html) => [...html.matchAll(/<img src="\.\.\/(img\/\d+\.png)"/g)].map((m) => m[1]!)),
    );
    assert.equal(srcs.size, 20, 'each real image once');
    assert.equal(result.images, 20);
    for (const src of srcs) {
      const thumb = await sharp(join(run, 'report', src)).metadata();
      assert.deepEqual([thumb.format, thumb.width, thumb.height], ['png', 64, 64], src);
      const view = await sharp(join(run, 'report', src.replace('.png', '-view.png'))).metadata();
      assert.deepEqual([view.width, view.height], [32, 32], 'the enlarged view: the model input');
    }
    assert.ok(existsSync(join(run, 'report', 'assets', 'report.css')));
    assert.ok(existsSync(join(run, 'report', 'assets', 'report.js')));
  });
});

describe('pure report of a run with 224-pixel inputs', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-report-large-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('enlarged pictures are JPEG from 96 pixels up (a 224-pixel PNG is ~8x larger)', async () => {
    const run = join(dir, 'large');
    await writeRun(run, UPPER, {
      ...{ runId: 'large', modelUri: '/models/m.onnx', dataUri: DATA, outUri: dir },
      ...{ layers: [LOWER, UPPER], k: 20, clusterCounts: [2, 3], preprocess: PREPROCESS_PRESETS.imagenet },
    });
    await writeReport(run, { crops: false });
    const one = await neuronPageOf(run, 1);
    assert.match(one, /<a class="zoom" href="\.\.\/img\/0-view\.jpg"/);
    const view = await sharp(join(run, 'report', 'img', '0-view.jpg')).metadata();
    assert.deepEqual([view.format, view.width, view.height], ['jpeg', 224, 224]);
    const thumb = await sharp(join(run, 'report', 'img', '0.png')).metadata();
    assert.deepEqual([thumb.format, thumb.width], ['png', 64], 'thumbnails stay PNG');
  });
});

describe('pure report of a run that explains two layers', () => {
  let dir: string;
  let run: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-report-two-'));
    run = join(dir, 'run-4');
    const config = {
      ...{ runId: 'run-4', modelUri: '/models/m.onnx', dataUri: DATA, outUri: dir },
      ...{
        layers: ['input', LOWER, UPPER],
        k: 20,
        clusterCounts: [2, 3],
        preprocess: PREPROCESS_PRESETS.cifar10,
      },
    };
    await writeRun(run, LOWER, config);
    // The second layer's tables beside the first's (writeRun writes the run files; these add a layer).
    const store = openStore(run);
    const moved = <T extends { layer: string }>(rows: T[]) => rows.map((r) => ({ ...r, layer: UPPER }));
    const all = { first: 0, end: 3 };
    await writeTable(store, runKeys.referencesLayer(UPPER), referencesSchema, moved(references));
    await writeTable(store, runKeys.layerPart('neurons', UPPER, all), neuronsSchema, moved(neurons));
    await writeTable(store, runKeys.layerPart('clusters', UPPER, all), clustersSchema, moved(clusters));
    await writeTable(
      store,
      runKeys.layerPart('relevance', UPPER, all),
      relevanceSchema,
      relevanceRows(UPPER, LOWER),
    );
    await writeReport(run, { crops: false });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a circuit's channels link to the lower layer's neuron pages, where that neuron was explained", async () => {
    const [pure] = galleriesOf(await readPage(run, 'layer-2/neuron-1.html'));
    assert.ok(pure.includes('<td class="num"><a href="../layer-1/neuron-0.html">0</a></td>'));
    assert.ok(pure.includes('<td class="num"><a href="../layer-1/neuron-2.html">2</a></td>'));
    // LOWER has neurons 0, 1, 2 only: channels 3 and 4 have no page.
    assert.ok(pure.includes('<tr data-channel="3"><td class="num">3</td>'));
    const index = await readFile(join(run, 'report', 'index.html'), 'utf8');
    assert.equal(index.match(/<section class="layer"/g)?.length, 2);
    assert.ok(existsSync(join(run, 'report', 'layer-1', 'neuron-2.html')));
  });
});

describe('pure report of a run with an evaluation', () => {
  let dir: string;
  let run: string;
  let index: string;
  let layerIndex: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-report-evaluation-'));
    run = join(dir, 'run-3');
    await writeRun(
      run,
      UPPER,
      {
        ...{ runId: 'run-3', modelUri: '/models/m.onnx', dataUri: DATA, outUri: dir },
        ...{ layers: [LOWER, UPPER], k: 20, clusterCounts: [2, 3], preprocess: PREPROCESS_PRESETS.cifar10 },
        evaluator: { uri: '/models/clip<vit>.onnx', preprocess: PREPROCESS_PRESETS.cifar10 },
      },
      {
        // Neuron 0 is kept whole, its best count 3: it is shown and judged at 3.
        // Neuron 1's verdict was made by the evaluation (the coherence of its PURE split).
        neuronRows: neurons.map((n) =>
          n.neuron === 0
            ? { ...n, bestCount: 3 }
            : n.neuron === 1
              ? { ...n, verdictBy: 'evaluation' as const, coherenceGain: 0.2, coherencePValue: 0.0099 }
              : n,
        ),
        evaluation: { rows: evaluationRows, virtualNeurons: virtualNeuronRows },
      },
    );
    const result = await writeReport(run, { crops: false });
    index = await readFile(result.indexLocation, 'utf8');
    layerIndex = await readPage(run, 'layer-1.html');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the overview names the evaluator and draws the evaluation chart', () => {
    assert.ok(index.includes('<dt>evaluator</dt><dd><code>/models/clip&lt;vit&gt;.onnx</code></dd>'));
    const overview = index.slice(index.indexOf('<section data-test="overview">'));
    assert.equal(overview.match(/<figure class="chart [^"]*"><svg /g)?.length, 3, 'and the evaluation');
    assert.ok(index.includes('significantly more coherent than random splits of its sizes for 1 of them'));
  });

  test('the layer index marks the significant PURE splits', () => {
    assert.ok(layerIndex.includes('<th data-sort>PURE coherence gain</th><th data-sort>PURE p-value</th>'));
    assert.ok(
      rowOf(layerIndex, 'data-neuron="1"').endsWith(
        '<td class="num" data-value="0.2">0.200</td><td class="num sig" data-value="0.01">0.010</td>',
      ),
    );
    assert.ok(rowOf(layerIndex, 'data-neuron="2"').endsWith('<td class="num" data-value="0.3">0.300</td>'));
    assert.ok(
      rowOf(layerIndex, 'data-neuron="0"').endsWith('<td class="num sig" data-value="0.04">0.040</td>'),
      'at its best count 3',
    );
  });

  test("the layer index summarises the layer's evaluation: mean ± standard error over neurons", () => {
    // PURE at 2 clusters: inner 1.02, 2.02, 3.02 (sd 1, se 1/sqrt(3)); gain 0.1, 0.2, 0.3; p < 0.05 for neuron 1.
    const pure2 = rowOf(layerIndex, 'data-method="pure" data-clusters="2"');
    assert.ok(pure2.includes('<td>PURE</td><td class="num">2</td><td class="num">3</td>'), pure2);
    assert.ok(pure2.includes('<td class="num">2.020 ± 0.577</td>'), pure2);
    assert.ok(pure2.includes('<td class="num">4.000 ± 0.577</td>'), 'inter 3, 4, 5');
    assert.ok(pure2.includes('<td class="num">0.200 ± 0.058</td>'), pure2);
    assert.ok(pure2.endsWith('<td class="num">33 %</td>'), pure2);
    assert.ok(
      rowOf(layerIndex, 'data-method="pure" data-clusters="3"').endsWith('<td class="num">67 %</td>'),
    );
    assert.ok(
      rowOf(layerIndex, 'data-method="activation" data-clusters="2"').endsWith('<td class="num">0 %</td>'),
    );
    const random = rowOf(layerIndex, 'data-method="random" data-clusters="3"');
    assert.ok(random.includes('Random split (chance)') && random.endsWith('<td class="num">–</td>'), random);
  });

  test('a verdict made by the evaluation shows the coherence gate that decided, the circuit gates apart', async () => {
    const one = await neuronPageOf(run, 1);
    assert.match(
      one,
      /coherence gate \(decides\): gain <b>0\.200<\/b> ≥ 0\.03 and p <b>0\.010<\/b> &lt; 0\.05\? <span class="pass">/,
    );
    assert.ok(one.includes('circuit gates (not used with an evaluator): evidence gate'));
    assert.ok(
      !(await neuronPageOf(run, 2)).includes('coherence gate'),
      'a circuit verdict shows the circuit gates only',
    );
  });

  test('each neuron page shows its evaluation, its significance and its virtual neurons as recorded', async () => {
    const [one, two, zero] = await Promise.all([1, 2, 0].map((n) => neuronPageOf(run, n)));
    assert.ok(zero!.includes('showing the 3-cluster split (its best count) for comparison'));
    assert.ok(
      one!.includes(
        'data-significant="true">PURE split in 3: significant (p 0.010 &lt; 0.05, coherence gain 0.200)',
      ),
    );
    assert.ok(two!.includes('data-significant="false">PURE split in 2: not significant (p 0.300 ≥ 0.05'));
    assert.ok(
      zero!.includes(
        `data-significant="true">Kept whole; PURE's split in 3 would be significant (p 0.040 &lt; 0.05`,
      ),
    );
    // Neuron 1's table: every method at both counts, the shown count marked, label purity 0.6.
    const embedding3 = rowOf(one!, 'class="shown" data-method="embedding" data-clusters="3"');
    assert.ok(
      embedding3.includes(
        '<td class="num">2.230</td><td class="num">4.000</td><td class="num">0.200</td><td class="num">0.500</td><td class="num">0.600</td>',
      ),
      embedding3,
    );
    assert.ok(
      rowOf(one!, 'class="shown" data-method="pure" data-clusters="3"').includes(
        '<td class="num sig">0.010</td>',
      ),
    );
    assert.ok(rowOf(one!, 'data-method="random" data-clusters="2"').includes('<td class="num">2.320</td>'));
    // Virtual neurons: size, majority label and purity from virtual_neurons, not counted by the report.
    assert.ok(
      one!.includes(
        'virtual neuron 2: <b>4</b> images · majority label <b>majority-2</b> (purity 0.75) · inner 1.500',
      ),
    );
    assert.ok(!one!.includes('main label <b>'));
  });
});

describe('pure report of a run that predates the verdict columns', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-report-old-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const config = (runId: string): Partial<SweepConfig> => ({
    ...{ runId, modelUri: '/models/m.onnx', dataUri: DATA, outUri: dir },
    ...{ layers: [LOWER, UPPER], k: 20, clusterCounts: [2, 3], preprocess: PREPROCESS_PRESETS.cifar10 },
  });

  test('renders the silhouettes without a verdict', async () => {
    const run = join(dir, 'old');
    await writeRun(run, UPPER, config('old'), { withoutVerdicts: 'all' });
    await writeReport(run, { crops: false });
    const layerIndex = await readPage(run, 'layer-1.html');
    assert.ok(!layerIndex.includes('<th data-sort>decision</th>') && !layerIndex.includes('PURE p-value'));
    const pages = await Promise.all([1, 2, 0].map((n) => neuronPageOf(run, n)));
    for (const page of pages) {
      assert.ok(page.includes('predates the verdict columns') && !page.includes('class="decision"'));
      assert.ok(page.includes('<th>silhouette PURE</th>') && !page.includes('evidence ('));
      assert.match(page, /<figure class="chart candidate-curve"><svg /);
    }
    assert.ok(pages[0]!.includes('<th class="num best">3 (chosen)</th>'));
    assert.ok(pages[2]!.includes('showing the 2-cluster split'), 'kept whole: shown at the smallest count');
  });

  test('shows the verdicts a mix of old and new parts has', async () => {
    const run = join(dir, 'mixed');
    await writeRun(run, UPPER, config('mixed'), { withoutVerdicts: 2 });
    await writeReport(run, { crops: false });
    const layerIndex = await readPage(run, 'layer-1.html');
    assert.ok(rowOf(layerIndex, 'data-neuron="2"').includes(escapeHtml('split in 2: evidence 4.5 >= 4')));
    assert.ok(rowOf(layerIndex, 'data-neuron="1"').endsWith('<td>–</td>'));
    assert.ok((await neuronPageOf(run, 1)).includes('predates the verdict columns'));
    const two = await neuronPageOf(run, 2);
    assert.ok(two.includes('class="decision"') && !two.includes('predates'));
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
    assert.ok(
      progress.every(([d], i) => i === 0 || d > progress[i - 1]![0]),
      'progress only grows',
    );
    assert.deepEqual(
      result.layers.map((l) => [l.neurons, l.heatmapped]),
      [[3, 2]],
      'the top 2 neurons are drawn with crops',
    );
    const [one, two, zero] = await Promise.all([1, 2, 0].map((n) => neuronPageOf(run, n)));
    assert.match(one!, /cropped to what the neuron looks at/);
    assert.ok(zero!.includes('as the model sees them') && !zero!.includes('crops/'), 'neuron 0: its images');
    const srcs = [
      ...new Set(
        [one!, two!].flatMap((html) =>
          [...html.matchAll(/<img src="\.\.\/(crops\/1\/(\d+)\/(\d+)\.png)"/g)].map((m) => m[1]!),
        ),
      ),
    ];
    assert.ok(
      one!.includes('<a class="zoom" href="../crops/1/1/0-heat.png"'),
      'a crop enlarges to its heatmap',
    );
    // Neurons 1 and 2 are drawn with crops, up to 8 images per virtual neuron, some images under both.
    const images = [...new Set(zero!.match(/<img src="\.\.\/img\/\d+\.png"/g))].length;
    assert.equal(result.images, srcs.length + images);
    const crops = srcs.length + 1; // and neuron 2's missing image
    assert.deepEqual(progress.at(-1), [crops, crops]);
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
        const overlay = await sharp(file.replace('.png', '-heat.png'))
          .raw()
          .toBuffer({ resolveWithObject: true });
        assert.deepEqual(
          [overlay.info.width, overlay.info.height],
          [32, 32],
          'the heatmap over the model input',
        );
        const plane = heatPlane(heat.data as Float32Array, 0, 32, 32);
        assert.deepEqual(overlay.data, Buffer.from(heatOverlay(view, plane)), `${src}: its own heatmap`);
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
