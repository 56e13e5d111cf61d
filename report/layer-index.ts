/**
 * The index of one layer: every neuron in one table (sortable by each column, 50 rows a page, filtered by
 * neuron id; all rows without the script), each linked to its page, and the layer's evaluation summary.
 */
import type { ReportNeuron } from './data.js';
import { type EvaluationScores, isSignificant, pureScoresAt } from './evidence.js';
import { layerEvaluationHtml } from './evidence-html.js';
import { fmt, escapeHtml as h, page } from './html.js';
import { neuronPage } from './paths.js';
import type { LayerReport, RunSummary } from './run.js';

/** Rows per page of a layer index. */
export const INDEX_PAGE_SIZE = 50;

/** The layer's numbers in one line: neurons, how many split, into how many virtual neurons. */
export function layerStats(layer: LayerReport): string {
  const split = layer.neurons.filter((n) => n.nClusters > 1);
  const virtualNeurons = split.reduce((sum, n) => sum + n.nClusters, 0);
  const confirmed = layer.evaluation
    ? ` PURE's split is significantly more coherent than random splits of its sizes for ${split.filter((n) => isSignificant(pureOf(layer, n))).length} of them.`
    : '';
  return `${layer.neurons.length} neurons; <b>${split.length}</b> split into <b>${virtualNeurons}</b> virtual neurons, ${layer.neurons.length - split.length} kept whole.${confirmed}`;
}

/** PURE's evaluation at a neuron's shown count. */
const pureOf = (layer: LayerReport, n: ReportNeuron): EvaluationScores | undefined =>
  pureScoresAt(layer.evaluation, n.neuron, layer.shownCounts.get(n.neuron) ?? n.nClusters);

export function layerIndexHtml(run: RunSummary, layer: LayerReport): string {
  const id = `neurons-${layer.index}`;
  const decisions = layer.neurons.some((n) => n.verdict !== null);
  const evaluated = layer.evaluation !== null;
  const head = [
    '<th data-sort>neuron</th>',
    '<th data-sort>clusters (chosen)</th>',
    '<th data-sort>polysemanticity</th>',
    '<th data-sort>best silhouette</th>',
    '<th data-sort>PURE virtual neurons: main labels</th>',
    decisions ? '<th data-sort>decision</th>' : '',
    evaluated ? '<th data-sort>PURE coherence gain</th><th data-sort>PURE p-value</th>' : '',
  ].join('');
  const rows = layer.neurons.map((n) => neuronRow(layer, n, decisions));
  const body = `<nav class="crumbs"><a href="index.html">run ${h(run.config.runId)}</a> › layer <code>${h(layer.layer)}</code></nav>
<h1>Layer <code>${h(layer.layer)}</code></h1>
<p class="layer-stats">${layerStats(layer)}</p>
<p>Every neuron of the layer, most polysemantic first; click a column to sort, type a neuron id to find it (Enter opens its page). The PURE columns: at the chosen count, or at the best count of a neuron kept whole.</p>
<div class="toolbar"><label>Find neuron <input type="search" id="neuron-search" data-search-for="${id}" inputmode="numeric" autocomplete="off" placeholder="id"></label><span class="muted" data-status-for="${id}"></span></div>
<table id="${id}" class="neuron-index sortable" data-page-size="${INDEX_PAGE_SIZE}"><thead><tr>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<div class="pager" data-for="${id}"></div>
${layer.evaluation ? layerEvaluationHtml(layer.evaluation.summary) : ''}`;
  return page(`${layer.layer} · ${run.config.runId}`, body);
}

function neuronRow(layer: LayerReport, n: ReportNeuron, decisions: boolean): string {
  const cell = (value: number | undefined | null, digits = 3) =>
    `<td class="num" data-value="${sortValue(value)}">${fmt(value, digits)}</td>`;
  const pure = layer.virtualNeurons.get(n.neuron)?.get('pure') ?? [];
  const labels = pure
    .map((vn) =>
      vn.mainLabel
        ? `${h(vn.mainLabel.label)} ${fmt((100 * vn.mainLabel.count) / vn.ranks.length, 0)} %`
        : '',
    )
    .filter((x) => x !== '')
    .join(' · ');
  const scores = pureOf(layer, n);
  const evaluation = layer.evaluation
    ? `${cell(scores?.coherenceGain)}<td class="num${isSignificant(scores) ? ' sig' : ''}" data-value="${sortValue(scores?.pValue)}">${fmt(scores?.pValue)}</td>`
    : '';
  return `<tr data-neuron="${n.neuron}"><td class="num" data-value="${n.neuron}"><a href="${h(neuronPage(layer.index, n.neuron))}">${n.neuron}</a></td>${cell(n.nClusters, 0)}${cell(n.polysemanticity)}${cell(bestSilhouette(n.silhouettes))}<td>${labels}</td>${decisions ? `<td>${h(n.verdict?.decision ?? '–')}</td>` : ''}${evaluation}</tr>`;
}

/** A cell's value for sorting: 6 significant digits (float32 columns print long), empty when missing. */
const sortValue = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value)
    ? ''
    : String(Number(value.toPrecision(6)));

export function bestSilhouette(silhouettes: number[]): number | undefined {
  const finite = silhouettes.filter(Number.isFinite);
  return finite.length === 0 ? undefined : Math.max(...finite);
}
