/**
 * The overview page (`index.html`): the run at a glance, then per explained layer its numbers, its plots
 * (polysemanticity distribution, how many neurons split into how many virtual neurons, and with an
 * evaluator the paper's inner/inter chart per method) and its most polysemantic neurons; then what every
 * score means.
 */
import { glossaryHtml } from './glossary.js';
import { escapeHtml as h, page } from './html.js';
import { layerStats } from './layer-index.js';
import { type Figure, figureHtml } from './neuron-page.js';
import { layerPage, neuronPage } from './paths.js';
import type { LayerReport, RunSummary } from './run.js';

/** Neurons linked from the overview per layer. */
const TOP_LINKS = 10;

/** A comparison stored in the run, with its page (relative to `report/`). */
export interface Comparison {
  against: string;
  page: string;
}

export function overviewHtml(
  run: RunSummary,
  layers: readonly LayerReport[],
  figures: ReadonlyMap<number, readonly Figure[]>,
  comparisons: readonly Comparison[] = [],
): string {
  const sections = layers.map((layer) => layerSection(layer, figures.get(layer.index) ?? []));
  const body = `<h1>PURE report · ${h(run.config.runId)}</h1>
${runSummary(run)}
<p>Each explained neuron's reference images are grouped by their circuits (which lower-layer channels drive the neuron on each image) into virtual neurons. Every neuron has its page: start from a layer below. <a href="#glossary">What the scores mean ↓</a></p>
<section data-test="overview">
${sections.length === 0 ? '<p class="muted">No explained layers: the run has no neurons table (stopped after references?).</p>' : sections.join('\n')}
</section>
${comparisonsHtml(comparisons)}
${glossaryHtml()}`;
  return page(`PURE report · ${run.config.runId}`, body);
}

function layerSection(layer: LayerReport, figures: readonly Figure[]): string {
  const link = layerPage(layer.index);
  const top = layer.neurons
    .slice(0, TOP_LINKS)
    .map(
      (n) =>
        `<a href="${h(neuronPage(layer.index, n.neuron))}">${n.neuron}</a> <span class="muted">(${n.polysemanticity.toFixed(2)})</span>`,
    );
  return `<section class="layer" data-layer-index="${layer.index}">
<h2>Layer <code>${h(layer.layer)}</code></h2>
<p class="layer-stats">${layerStats(layer)} <a href="${h(link)}">All ${layer.neurons.length} neurons →</a></p>
<div class="charts">
${figures.map((f, i) => figureHtml(`layer-chart-${i}`, f)).join('\n')}
</div>
<p>Most polysemantic (P): ${top.join(' · ')}</p>
</section>`;
}

/** The run at a glance: where model and data are, the settings, how many images were used and skipped. */
function runSummary(run: RunSummary): string {
  const { config, skipped } = run;
  const skippedTotal = skipped.reduce((s, x) => s + x.images, 0);
  const skippedText =
    skipped.length === 0
      ? '0'
      : `${skippedTotal} (${skipped.map((s) => `${h(s.stage)}: ${s.images}`).join(', ')})`;
  return `<dl class="summary">
<dt>run</dt><dd><code>${h(run.runUri)}</code></dd>
<dt>model</dt><dd><code>${h(config.modelUri)}</code></dd>
<dt>data</dt><dd><code>${h(config.dataUri)}</code></dd>
<dt>layers</dt><dd>${config.layers.map((l) => `<code>${h(l)}</code>`).join(' → ')}</dd>
<dt>k (references per neuron)</dt><dd>${h(config.k)}</dd>
<dt>cluster counts</dt><dd>${h((config.clusterCounts ?? []).join(', '))}</dd>
${config.evaluator ? `<dt>evaluator</dt><dd><code>${h(config.evaluator.uri)}</code></dd>` : ''}
<dt>images</dt><dd>${run.images}</dd>
<dt>skipped images</dt><dd>${skippedText}</dd>
</dl>`;
}

/** Links to the pages of the run's comparisons with earlier runs (`pure compare`); nothing without any. */
function comparisonsHtml(comparisons: readonly Comparison[]): string {
  if (comparisons.length === 0) return '';
  const links = comparisons.map(
    (c) =>
      `<li><a href="${h(encodeURIComponent(c.page))}">compared with run <code>${h(c.against)}</code></a></li>`,
  );
  return `<section data-test="comparisons"><h2>Comparisons</h2><ul>${links.join('')}</ul></section>`;
}
