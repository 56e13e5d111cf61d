/**
 * The page of one comparison (`pure compare A B`): per common layer how many neurons changed and why, and
 * the changed neurons, most severe first, each linked to its page in both runs' reports where they have
 * one. Written to `report/compare-<A's run id>.html` under the comparison's output root (run B's folder
 * unless --out), beside run B's own report.
 */
import { posix, relative } from 'node:path';
import { createComparisonViews } from '../core/adapters/analytics/views.js';
import { isS3Uri, type ObjectStore, openStore } from '../core/adapters/storage/index.js';
import { CHANGE_REASONS, COMPARE_THRESHOLDS } from '../core/compute/compare/verdict.js';
import { escapeKeySegment, unescapeKeySegment } from '../core/compute/run/keys.js';
import { REPORT_CSS, REPORT_JS } from './assets.js';
import {
  type ChangedNeuron,
  type ComparisonData,
  type LayerOutcome,
  readComparison,
} from './compare-data.js';
import { fmt, escapeHtml as h, page } from './html.js';
import { ASSETS, layerPage, neuronPage, REPORT_PREFIX, reportKey } from './paths.js';
import { openRunDatabase, readRunConfig } from './run.js';

/** Changed neurons listed on the page; the table holds all of them. */
const CHANGED_ROWS = 1000;

/** The page's name in `report/`, from run A's id. */
export const comparePage = (against: string): string => `compare-${escapeKeySegment(against)}.html`;

export interface ComparePageResult {
  /** Key relative to the output root. */
  key: string;
  /** Local path or s3:// URI of the page. */
  location: string;
}

/** The runs compared with, of every comparison stored under the store's root (its `against=` partitions). */
export async function storedComparisons(store: ObjectStore): Promise<string[]> {
  const against = new Set<string>();
  for (const key of await store.list('compare')) {
    const match = /^compare\/against=([^/]+)\//.exec(key);
    if (match) against.add(unescapeKeySegment(match[1]!));
  }
  return [...against].sort();
}

/** Writes the page of the comparison with run `against` stored under `outUri`. */
export async function writeComparePage(outUri: string, against: string): Promise<ComparePageResult> {
  const store = openStore(outUri);
  const db = await openRunDatabase(outUri);
  let data: ComparisonData;
  try {
    const views = await createComparisonViews(db, outUri, against);
    data = await readComparison(db, views.includes('compare_virtual_neurons'), CHANGED_ROWS);
  } finally {
    db.closeSync();
  }
  const [linksA, linksB] = await Promise.all([runLinks(data.runA, outUri), runLinks(data.runB, outUri)]);
  const position = (layer: string) => linksB.layers.indexOf(layer) >>> 0; // unknown layers (-1) last
  data.layers.sort((x, y) => position(x.layer) - position(y.layer));
  const html = comparePageHtml(data, linksA, linksB);
  const key = reportKey(comparePage(against));
  await putIfMissing(store, reportKey(ASSETS.css), REPORT_CSS, 'text/css; charset=utf-8');
  await putIfMissing(store, reportKey(ASSETS.js), REPORT_JS, 'text/javascript; charset=utf-8');
  await store.put(key, new TextEncoder().encode(html), { contentType: 'text/html; charset=utf-8' });
  return { key, location: store.localPath ? store.localPath(key) : `${store.uri}/${key}` };
}

/** The shared assets, for a page whose folder has no report yet (`pure report` writes the same files). */
async function putIfMissing(store: ObjectStore, key: string, text: string, contentType: string) {
  if (!(await store.exists(key))) await store.put(key, new TextEncoder().encode(text), { contentType });
}

/** How the page links to one run's neuron pages: none where the run has no report for the layer. */
export interface RunLinks {
  runUri: string;
  /** The path from the page's folder to the run's `report/`; null when no relative link can reach it. */
  base: string | null;
  /** Layer name -> its index in the run's config (pages are named by it), for layers with a report page. */
  reported: Map<string, number>;
  /** The run's --layers, lower first (empty when its config cannot be read). */
  layers: string[];
}

async function runLinks(runUri: string, outUri: string): Promise<RunLinks> {
  const base = relativeReportPath(outUri, runUri);
  const reported = new Map<string, number>();
  const store = openStore(runUri);
  const config = await readRunConfig(store).catch(() => null);
  if (config && base !== null) {
    for (const [index, layer] of config.layers.entries()) {
      if (await store.exists(reportKey(layerPage(index)))) reported.set(layer, index);
    }
  }
  return { runUri, base, reported, layers: config?.layers ?? [] };
}

/**
 * The way from `<outUri>/report/` to `<runUri>/report/`, URL-encoded: relative when both are local, or on
 * the same S3 bucket (the pages then work from disk and from a static host alike); null otherwise.
 */
export function relativeReportPath(outUri: string, runUri: string): string | null {
  let path: string;
  if (isS3Uri(outUri) !== isS3Uri(runUri)) return null;
  if (isS3Uri(outUri)) {
    const [bucketOut, ...keyOut] = outUri.slice('s3://'.length).split('/');
    const [bucketRun, ...keyRun] = runUri.slice('s3://'.length).split('/');
    if (bucketOut !== bucketRun) return null;
    path = posix.relative(
      posix.join('/', ...keyOut, REPORT_PREFIX),
      posix.join('/', ...keyRun, REPORT_PREFIX),
    );
  } else {
    path = relative(`${outUri}/${REPORT_PREFIX}`, `${runUri}/${REPORT_PREFIX}`).split('\\').join('/');
  }
  return path === '' ? '' : `${path.split('/').map(encodeURIComponent).join('/')}/`;
}

function neuronLink(links: RunLinks, layer: string, neuron: number, label: string): string {
  const index = links.reported.get(layer);
  if (links.base === null || index === undefined) return '<span class="muted">–</span>';
  return `<a href="${h(links.base + neuronPage(index, neuron))}">${h(label)}</a>`;
}

/** The whole page. */
export function comparePageHtml(data: ComparisonData, a: RunLinks, b: RunLinks): string {
  const title = `Comparison · ${runName(data.runA)} → ${runName(data.runB)}`;
  const body = `<h1>${h(title)}</h1>
<dl class="summary">
<dt>run A (before)</dt><dd><code>${h(data.runA)}</code></dd>
<dt>run B (after)</dt><dd><code>${h(data.runB)}</code></dd>
<dt>images</dt><dd>${data.sameImages ? 'the same in both runs: references compared' : 'different: references and their values not compared, circuits and counts are'}</dd>
<dt>changed neurons</dt><dd>${data.changedTotal} of ${data.layers.reduce((s, l) => s + l.compared, 0)}</dd>
</dl>
<h2>Per layer</h2>
${layerTable(data.layers)}
<h2>Changed neurons</h2>
${changedTable(data, a, b)}
${measuresHtml()}`;
  return page(title, body);
}

const runName = (uri: string): string => uri.replace(/\/+$/, '').split('/').pop() ?? uri;

function layerTable(layers: readonly LayerOutcome[]): string {
  const head = ['layer', 'neurons compared', 'unchanged', 'changed', ...CHANGE_REASONS, 'note'];
  const rows = layers.map((l) => {
    const note =
      l.lowerLayer === null
        ? 'first layer: references only'
        : l.circuits
          ? ''
          : 'circuits not compared (lower layer differs)';
    const cells = [
      l.compared,
      l.compared - l.changed,
      l.changed,
      ...CHANGE_REASONS.map((r) => l.byReason[r]),
    ];
    return `<tr><td><code>${h(l.layer)}</code></td>${cells.map((c) => `<td class="num">${c}</td>`).join('')}<td>${h(note)}</td></tr>`;
  });
  return `<table class="compare-layers"><thead><tr>${head.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function changedTable(data: ComparisonData, a: RunLinks, b: RunLinks): string {
  if (data.changed.length === 0) return '<p>No neuron changed.</p>';
  const head = [
    'layer',
    'neuron',
    'severity',
    'reasons',
    'reference Jaccard',
    'value ratio',
    'clusters A → B',
    'mean circuit cosine',
    'matched similarity',
    'virtual neurons A → B (similarity)',
    'pages',
  ];
  const num = (value: number | null, digits = 3) =>
    `<td class="num" data-value="${value ?? ''}">${fmt(value, digits)}</td>`;
  const rows = data.changed.map(
    (n: ChangedNeuron) =>
      `<tr><td><code>${h(n.layer)}</code></td><td class="num" data-value="${n.neuron}">${n.neuron}</td>${num(n.severity, 2)}<td>${h(n.reasons)}</td>${num(n.referenceJaccard)}${num(n.valueRatio)}<td>${h(`${n.nClustersA ?? '–'} → ${n.nClustersB ?? '–'}`)}</td>${num(n.meanCircuitCosine)}${num(n.matchedSimilarity)}<td>${h(n.virtualNeurons)}</td><td>${neuronLink(a, n.layer, n.neuron, 'A')} ${neuronLink(b, n.layer, n.neuron, 'B')}</td></tr>`,
  );
  const cut =
    data.changedTotal > data.changed.length
      ? `<p class="muted">The ${data.changed.length} most severe of ${data.changedTotal}; the compare table holds all.</p>`
      : '';
  return `${cut}<table id="changed" class="sortable" data-page-size="50"><thead><tr>${head.map((c) => `<th data-sort>${h(c)}</th>`).join('')}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
<div class="pager" data-for="changed"></div>`;
}

function measuresHtml(): string {
  const t = COMPARE_THRESHOLDS;
  return `<section class="glossary"><h2>What the measures mean</h2><dl class="glossary">
<dt>references</dt><dd>The Jaccard index of the two runs' reference images (the top-k by activation) is at most ${t.referenceJaccard}.</dd>
<dt>values</dt><dd>The mean activation of the references moved by a factor of ${t.valueRatio} or more, either way (value ratio = B / A).</dd>
<dt>count</dt><dd>The automatic number of virtual neurons differs (1 = monosemantic).</dd>
<dt>circuits</dt><dd>A virtual neuron's centroid (the mean circuit of its references: relevance over the lower layer's channels) is at most ${t.circuitSimilarity} similar (cosine) to its match in the other run, or ${t.circuitSimilarityOtherImages} when the runs saw different images. Virtual neurons are matched one to one by the Hungarian method on centroid cosines; a monosemantic neuron is one virtual neuron, whose centroid is the neuron's mean circuit.</dd>
<dt>mean circuit cosine</dt><dd>Shown, not judged: for a split neuron it also moves when the mix of its virtual neurons among the references changes, which the references show.</dd>
<dt>severity</dt><dd>The largest change over its threshold: 1 is the line, so severities of different reasons rank together.</dd>
</dl></section>`;
}
