/**
 * The report's pages as HTML strings, without I/O: the index (the run and, per explained layer, its
 * neurons by polysemanticity, with their verdicts) and one page per layer (the layer's evaluation, and per
 * shown neuron why it was or was not split and its virtual neurons, PURE and the Activation baseline side
 * by side).
 */
import type { ReportImage, ReportNeuron, VirtualNeuron } from './data.js';
import { type EvaluationScores, isSignificant, pureScoresAt, SIGNIFICANCE_LEVEL } from './evidence.js';
import { evaluationHtml, layerEvaluationHtml, significanceHtml, verdictHtml } from './evidence-html.js';
import { fmt, escapeHtml as h, page } from './html.js';
import { type ImageSource, layerPage } from './paths.js';
import type { RunSummary, ShownLayer } from './run.js';

/** The page of one layer; `crops` says how the pictures were made, for the caption. */
export function layerHtml(run: RunSummary, layer: ShownLayer, source: ImageSource, crops: boolean): string {
  const sections = layer.shown.map((n) => neuronSection(run.clusterCounts, layer, n, source));
  const body = `<p><a href="index.html">← run ${h(run.config.runId)}</a></p>
<h1>Layer <code>${h(layer.layer)}</code></h1>
<p>The ${layer.shown.length} most polysemantic of ${layer.neurons.length} neurons. ${
    crops
      ? 'Pictures: the highest-ranked reference images of each virtual neuron, cropped to what the neuron looks at (its heatmap on the image, blurred; cropped where above 1 % of its maximum, dimmed where below 2 %)'
      : 'Pictures: the highest-ranked reference images of each virtual neuron'
  } (hover for rank, image and label).</p>
${layer.evaluation ? layerEvaluationHtml(layer.evaluation.summary) : ''}
${sections.join('\n')}`;
  return page(`${layer.layer} · ${run.config.runId}`, body);
}

/** A page names every picture it shows; those that could not be made (`failed`) become grey boxes. */
export function markMissing(html: string, failed: ReadonlySet<string>): string {
  return html.replace(/<img src="([^"]*)" alt="([^"]*)"[^>]*>/g, (img, src: string, alt: string) =>
    failed.has(src) ? `<span class="missing" title="${alt}: the image could not be read"></span>` : img,
  );
}

/** The index page; `top` is the number of neurons each layer page shows at most. */
export function indexHtml(run: RunSummary, layers: readonly ShownLayer[], top: number): string {
  const sections = layers.map((layer) => layerSummary(layer, top));
  const body = `<h1>PURE report · ${h(run.config.runId)}</h1>
${runSummary(run)}
${sections.length === 0 ? '<p class="muted">No explained layers: the run has no neurons table (stopped after references?).</p>' : sections.join('\n')}`;
  return page(`PURE report · ${run.config.runId}`, body);
}

/**
 * A shown neuron's section: its scores, why it was or was not split, its clusterings' coherence in the
 * evaluator's space (runs with one) and its virtual neurons by both methods, at its shown count.
 */
function neuronSection(counts: number[], layer: ShownLayer, n: ReportNeuron, source: ImageSource): string {
  const count = layer.shownCounts.get(n.neuron) ?? n.nClusters;
  const note =
    n.nClusters > 1
      ? ''
      : `<p class="note">Automatic choice: 1 (monosemantic); showing the ${count}-cluster split${n.verdict?.bestCount === count ? ' (its best count)' : ''} for comparison.</p>`;
  const byMethod = layer.virtualNeurons.get(n.neuron);
  const srcOf = (img: ReportImage) => source(layer.index, n.neuron, img);
  return `<section class="neuron" id="neuron-${n.neuron}" data-neuron="${n.neuron}" data-shown-clusters="${count}">
<h2>Neuron ${n.neuron}</h2>
<p>polysemanticity <b>${fmt(n.polysemanticity)}</b> · chosen clusters <b>${n.nClusters}</b> · ${n.references} references</p>
${note}
${significanceHtml(pureScoresAt(layer.evaluation, n.neuron, count), n.nClusters > 1)}
<div class="evidence">
${verdictHtml(n, counts)}
${evaluationHtml(layer.evaluation?.byNeuron.get(n.neuron), count)}
</div>
<div class="methods">
<div class="method" data-method="pure"><h3>PURE (circuits) · ${count} virtual neurons · silhouette ${fmt(silhouetteAt(n.silhouettes, counts, count))}</h3>
${virtualNeuronsHtml(byMethod?.get('pure'), srcOf)}
</div>
<div class="method" data-method="activation"><h3>Activation baseline · ${count} clusters · silhouette ${fmt(silhouetteAt(n.activationSilhouettes, counts, count))}</h3>
${virtualNeuronsHtml(byMethod?.get('activation'), srcOf)}
</div>
</div>
</section>`;
}

function virtualNeuronsHtml(
  clusters: VirtualNeuron[] | undefined,
  srcOf: (img: ReportImage) => string,
): string {
  if (!clusters || clusters.length === 0) return '<p class="muted">no clustering stored</p>';
  return clusters
    .map(
      (vn) =>
        `<div class="vn" data-cluster="${vn.cluster}"><div class="meta">virtual neuron ${vn.cluster}: ${virtualNeuronMeta(vn)}</div><div class="thumbs">${vn.images.map((img) => thumb(img, srcOf(img))).join('')}</div></div>`,
    )
    .join('\n');
}

/**
 * Size and label of a virtual neuron: the evaluation's record (size, majority label and its purity, the
 * crops' mean distance) where the run has one, else what the report counts from the references.
 */
function virtualNeuronMeta(vn: VirtualNeuron): string {
  const r = vn.record;
  if (!r) {
    const label = vn.mainLabel
      ? ` · main label <b>${h(vn.mainLabel.label)}</b> (${vn.mainLabel.count}/${vn.members})`
      : '';
    return `<b>${vn.members}</b> images${label}`;
  }
  const label =
    r.majorityLabel === null
      ? ''
      : ` · majority label <b>${h(r.majorityLabel)}</b> (purity ${fmt(r.labelPurity, 2)})`;
  const inner = r.inner === null ? '' : ` · inner ${fmt(r.inner)}`;
  return `<b>${r.size}</b> images${label}${inner}`;
}

function thumb(img: ReportImage, src: string): string {
  const title = `#${img.rank} ${img.sampleId}${img.label === null ? '' : ` (${img.label})`}`;
  return `<img src="${h(src)}" alt="${h(title)}" title="${h(title)}" loading="lazy">`;
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

/**
 * A layer on the index page: every neuron in a table, the shown ones linked to their sections, with its
 * decision (runs that record one) and PURE's significance at its shown count (runs with an evaluation).
 */
function layerSummary(layer: ShownLayer, top: number): string {
  const all = layer.neurons;
  const split = all.filter((n) => n.nClusters > 1);
  const shown = new Set(layer.shown.map((n) => n.neuron));
  const link = layerPage(layer.index);
  const decisions = all.some((n) => n.verdict !== null);
  const pureOf = (n: ReportNeuron) =>
    pureScoresAt(layer.evaluation, n.neuron, layer.shownCounts.get(n.neuron) ?? n.nClusters);
  const rows = all.map((n) => {
    const name = shown.has(n.neuron)
      ? `<a href="${h(link)}#neuron-${n.neuron}">${n.neuron}</a>`
      : String(n.neuron);
    const decision = decisions ? `<td>${h(n.verdict?.decision ?? '–')}</td>` : '';
    const pure = layer.evaluation ? pureCells(pureOf(n)) : '';
    return `<tr data-neuron="${n.neuron}"><td class="num">${name}</td><td class="num">${n.nClusters}</td><td class="num">${fmt(n.polysemanticity)}</td><td class="num">${fmt(bestSilhouette(n.silhouettes))}</td>${decision}${pure}</tr>`;
  });
  const confirmed = layer.evaluation
    ? ` PURE's split is more coherent than random splits of its sizes (p &lt; ${SIGNIFICANCE_LEVEL}) for ${split.filter((n) => isSignificant(pureOf(n))).length} of them. The PURE columns: at the chosen count, or at the best count of a neuron kept whole.`
    : '';
  return `<section class="layer" data-layer-index="${layer.index}">
<h2>Layer <code>${h(layer.layer)}</code></h2>
<p>${split.length} of ${all.length} neurons split into virtual neurons.${confirmed} <a href="${h(link)}">Virtual neurons of the top ${Math.min(top, all.length)} →</a></p>
<table><thead><tr><th>neuron</th><th>n_clusters (chosen)</th><th>polysemanticity</th><th>best silhouette</th>${decisions ? '<th>decision</th>' : ''}${layer.evaluation ? '<th>PURE coherence gain</th><th>PURE p-value</th>' : ''}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</section>`;
}

/** PURE's coherence gain and p-value at a neuron's shown count, the p-value bold when significant. */
function pureCells(scores: EvaluationScores | undefined): string {
  return `<td class="num">${fmt(scores?.coherenceGain)}</td><td class="num${isSignificant(scores) ? ' sig' : ''}">${fmt(scores?.pValue)}</td>`;
}

/** The silhouette at cluster count `n`; `silhouettes` follows `counts` (the candidates, increasing). */
function silhouetteAt(silhouettes: number[], counts: number[], n: number): number | undefined {
  const i = counts.indexOf(n);
  return i < 0 ? undefined : silhouettes[i];
}

function bestSilhouette(silhouettes: number[]): number | undefined {
  const finite = silhouettes.filter(Number.isFinite);
  return finite.length === 0 ? undefined : Math.max(...finite);
}
