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
  referencesSchema,
  type SampleRow,
  type SkippedRow,
  samplesSchema,
  skippedSchema,
  type VirtualNeuronRow,
  virtualNeuronsSchema,
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

/** The neuron sections of a layer page, in page order. */
const neuronSections = (html: string) => html.split('<section class="neuron"').slice(1);
/** The row of a table that carries these data attributes. */
const rowOf = (html: string, attributes: string) => {
  const start = html.indexOf(`<tr ${attributes}`);
  assert.ok(start >= 0, `a row with ${attributes}`);
  return html.slice(start, html.indexOf('</tr>', start));
};

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
    // The verdict: the decision, the gates and the candidate counts, the best one marked.
    assert.ok(sections.every((section) => section.includes('<div class="verdict"')));
    assert.ok(sections[0]!.includes(escapeHtml('split in 3: evidence 6.1 >= 4, P 0.90 >= 0.5')));
    assert.ok(sections[0]!.includes('<th class="num best">3 (best)</th>'));
    assert.ok(sections[0]!.includes('evidence gate: max <b>6.10</b> ≥ 4? <span class="pass">passed</span>'));
    assert.ok(
      sections[0]!.includes('P gate: <b>0.90</b> at 3 clusters ≥ 0.5? <span class="pass">passed</span>'),
    );
    assert.ok(sections[0]!.includes('<td class="num pass">5.000</td><td class="num best pass">6.100</td>'));
    assert.ok(sections[0]!.includes('<td class="num">0.400</td><td class="num best pass">0.900</td>'));
    assert.ok(sections[2]!.includes(escapeHtml('monosemantic: evidence 1.0 < 4')));
    assert.ok(sections[2]!.includes('evidence gate: max <b>1.00</b> ≥ 4? <span class="fail">failed</span>'));
    assert.ok(sections[2]!.includes('<td class="num best fail">0.100</td>'), 'P fails at the best count');
    assert.ok(!/class="evaluation"|layer-evaluation|data-significant/.test(layerHtml), 'no evaluation');
    assert.ok(index.includes('<th>decision</th>') && !index.includes('PURE p-value'));
    assert.ok(
      rowOf(index, 'data-neuron="2"').includes(escapeHtml('split in 2: evidence 4.5 >= 4, P 0.50 >= 0.5')),
    );
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

describe('pure report of a run with an evaluation', () => {
  let dir: string;
  let run: string;
  let index: string;
  let layerHtml: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-report-evaluation-'));
    run = join(dir, 'run-3');
    await writeRun(
      run,
      UPPER,
      {
        ...{ runId: 'run-3', modelUri: '/models/m.onnx', dataUri: DATA, outUri: dir },
        ...{ layers: [LOWER, UPPER], k: 20, clusterCounts: [2, 3] },
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
    layerHtml = await readFile(join(run, 'report', 'layer-1.html'), 'utf8');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the index names the evaluator and marks the significant PURE splits', () => {
    assert.ok(index.includes('<dt>evaluator</dt><dd><code>/models/clip&lt;vit&gt;.onnx</code></dd>'));
    assert.ok(index.includes('<th>PURE coherence gain</th><th>PURE p-value</th>'));
    assert.ok(
      rowOf(index, 'data-neuron="1"').endsWith('<td class="num">0.200</td><td class="num sig">0.010</td>'),
    );
    assert.ok(
      rowOf(index, 'data-neuron="2"').endsWith('<td class="num">0.300</td><td class="num">0.300</td>'),
    );
    assert.ok(
      rowOf(index, 'data-neuron="0"').endsWith('<td class="num sig">0.040</td>'),
      'at its best count 3',
    );
    assert.ok(index.includes('(p &lt; 0.05) for 1 of them'), 'of the two split neurons, one is confirmed');
  });

  test("the layer page summarises the layer's evaluation: mean ± standard error over neurons", () => {
    // PURE at 2 clusters: inner 1.02, 2.02, 3.02 (sd 1, se 1/sqrt(3)); gain 0.1, 0.2, 0.3; p < 0.05 for neuron 1.
    const pure2 = rowOf(layerHtml, 'data-method="pure" data-clusters="2"');
    assert.ok(pure2.includes('<td>PURE</td><td class="num">2</td><td class="num">3</td>'), pure2);
    assert.ok(pure2.includes('<td class="num">2.020 ± 0.577</td>'), pure2);
    assert.ok(pure2.includes('<td class="num">4.000 ± 0.577</td>'), 'inter 3, 4, 5');
    assert.ok(pure2.includes('<td class="num">0.200 ± 0.058</td>'), pure2);
    assert.ok(pure2.endsWith('<td class="num">33 %</td>'), pure2);
    assert.ok(rowOf(layerHtml, 'data-method="pure" data-clusters="3"').endsWith('<td class="num">67 %</td>'));
    assert.ok(
      rowOf(layerHtml, 'data-method="activation" data-clusters="2"').endsWith('<td class="num">0 %</td>'),
    );
    const random = rowOf(layerHtml, 'data-method="random" data-clusters="3"');
    assert.ok(random.includes('Random split (chance)') && random.endsWith('<td class="num">–</td>'), random);
  });

  test('a verdict made by the evaluation shows the coherence gate that decided, the circuit gates apart', () => {
    const [one = '', two = ''] = neuronSections(layerHtml);
    assert.match(
      one,
      /coherence gate \(decides\): gain <b>0\.200<\/b> ≥ 0\.03 and p <b>0\.010<\/b> &lt; 0\.05\? <span class="pass">/,
    );
    assert.ok(one.includes('circuit gates (not used with an evaluator): evidence gate'));
    assert.ok(!two.includes('coherence gate'), 'a circuit verdict shows the circuit gates only');
  });

  test('each neuron shows its evaluation, its significance and its virtual neurons as recorded', () => {
    const sections = neuronSections(layerHtml);
    const shown = sections.map((s) => /data-neuron="(\d+)" data-shown-clusters="(\d+)"/.exec(s)!.slice(1));
    assert.deepEqual(shown, [
      ['1', '3'],
      ['2', '2'],
      ['0', '3'],
    ]);
    const [one = '', two = '', zero = ''] = sections;
    assert.ok(zero.includes('showing the 3-cluster split (its best count) for comparison'));
    assert.ok(
      one.includes(
        'data-significant="true">PURE split in 3: significant (p 0.010 &lt; 0.05, coherence gain 0.200)',
      ),
    );
    assert.ok(two.includes('data-significant="false">PURE split in 2: not significant (p 0.300 ≥ 0.05'));
    assert.ok(
      zero.includes(
        `data-significant="true">Kept whole; PURE's split in 3 would be significant (p 0.040 &lt; 0.05`,
      ),
    );
    // Neuron 1's table: every method at both counts, the shown count marked, label purity 0.6.
    const embedding3 = rowOf(one, 'class="shown" data-method="embedding" data-clusters="3"');
    assert.ok(
      embedding3.includes(
        '<td class="num">2.230</td><td class="num">4.000</td><td class="num">0.200</td><td class="num">0.500</td><td class="num">0.600</td>',
      ),
      embedding3,
    );
    assert.ok(
      rowOf(one, 'class="shown" data-method="pure" data-clusters="3"').includes(
        '<td class="num sig">0.010</td>',
      ),
    );
    assert.ok(rowOf(one, 'data-method="random" data-clusters="2"').includes('<td class="num">2.320</td>'));
    // Virtual neurons: size, majority label and purity from virtual_neurons, not counted by the report.
    assert.ok(
      one.includes(
        'virtual neuron 2: <b>4</b> images · majority label <b>majority-2</b> (purity 0.75) · inner 1.500',
      ),
    );
    assert.ok(!layerHtml.includes('main label'));
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
    ...{ layers: [LOWER, UPPER], k: 20, clusterCounts: [2, 3] },
  });

  test('renders the silhouettes without a verdict', async () => {
    const run = join(dir, 'old');
    await writeRun(run, UPPER, config('old'), { withoutVerdicts: 'all' });
    const result = await writeReport(run, { crops: false });
    const index = await readFile(result.indexLocation, 'utf8');
    assert.ok(!index.includes('<th>decision</th>') && !index.includes('PURE p-value'));
    const sections = neuronSections(await readFile(join(run, 'report', 'layer-1.html'), 'utf8'));
    assert.equal(sections.length, 3);
    for (const section of sections) {
      assert.ok(section.includes('predates the verdict columns') && !section.includes('class="decision"'));
      assert.ok(section.includes('<th>silhouette PURE</th>') && !section.includes('evidence ('));
    }
    assert.ok(sections[0]!.includes('<th class="num best">3 (chosen)</th>'));
    assert.ok(sections[2]!.includes('data-shown-clusters="2"'), 'kept whole: shown at the smallest count');
  });

  test('shows the verdicts a mix of old and new parts has', async () => {
    const run = join(dir, 'mixed');
    await writeRun(run, UPPER, config('mixed'), { withoutVerdicts: 2 });
    const result = await writeReport(run, { crops: false });
    const index = await readFile(result.indexLocation, 'utf8');
    assert.ok(rowOf(index, 'data-neuron="2"').includes(escapeHtml('split in 2: evidence 4.5 >= 4')));
    assert.ok(rowOf(index, 'data-neuron="1"').endsWith('<td>–</td>'));
    const [one = '', two = ''] = neuronSections(await readFile(join(run, 'report', 'layer-1.html'), 'utf8'));
    assert.ok(one.includes('predates the verdict columns'));
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
