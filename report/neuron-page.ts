/**
 * The page of one neuron: its scores and verdict, the silhouette/evidence curve over the candidate counts,
 * the map of its circuit vectors, and its virtual neurons side by side with the Activation baseline's
 * clusters: each with its pictures (click to enlarge), its label mix, its size and scores, and for PURE
 * its circuit (the lower-layer channels that drive it, linked to their pages where that layer was explained
 * too). HTML strings without I/O; index.ts gathers the data and writes the files.
 */
import type { ClusterMethod } from '../core/compute/tables/schemas.js';
import type { CircuitChannel } from './circuits.js';
import type { LabelCount, ReportImage, ReportNeuron, VirtualNeuron } from './data.js';
import { pureScoresAt } from './evidence.js';
import { evaluationHtml, significanceHtml, verdictHtml } from './evidence-html.js';
import { fmt, escapeHtml as h, page } from './html.js';
import { fromNeuronPage, type LargeFormat, layerPage, type PictureKind, picturePaths } from './paths.js';
import type { LayerReport, RunSummary } from './run.js';

/** A figure of the page: an SVG rendered at report time, and what it shows. */
export interface Figure {
  svg: string;
  caption: string;
}

/** What a neuron page shows beyond the layer's data. */
export interface NeuronPageContext {
  run: RunSummary;
  layer: LayerReport;
  neuron: ReportNeuron;
  /** The neurons before and after it in the layer index's default order (most polysemantic first). */
  previous: number | null;
  next: number | null;
  pictureKind: PictureKind;
  /** The format of the enlarged pictures. */
  largeFormat: LargeFormat;
  /** The silhouette/evidence curve over the candidate counts. */
  candidateCurve: Figure | null;
  /** The 2-D map of the circuit vectors; null when the run has none for this neuron. */
  circuitMap: Figure | null;
  /** Each PURE virtual neuron's top lower-layer channels, by cluster id. */
  circuits: ReadonlyMap<number, CircuitChannel[]>;
  /** The lower layer, with the page of its channel `c` where it was explained too. */
  lower: { layer: string; pageOf: ((channel: number) => string | null) | null } | null;
}

/** Colours of the label-mix bars: stable per label (a hash), distinct enough for a handful of classes. */
const LABEL_COLOURS = [
  '#4c78a8',
  '#f58518',
  '#54a24b',
  '#e45756',
  '#72b7b2',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
];

export function neuronHtml(ctx: NeuronPageContext): string {
  const { run, layer, neuron: n } = ctx;
  const count = layer.shownCounts.get(n.neuron) ?? n.nClusters;
  const byMethod = layer.virtualNeurons.get(n.neuron);
  const counts = run.clusterCounts;
  const body = `${crumbs(ctx)}
<h1>Neuron ${n.neuron} <span class="muted">of</span> <code>${h(layer.layer)}</code></h1>
<p>polysemanticity <b>${fmt(n.polysemanticity)}</b> · chosen clusters <b>${n.nClusters}</b> · ${n.references} reference images${ctx.lower ? ` · circuits over the channels of <code>${h(ctx.lower.layer)}</code>` : ''}</p>
${monosemanticNote(n, count)}
${significanceHtml(pureScoresAt(layer.evaluation, n.neuron, count), n.nClusters > 1)}
<div class="charts">
${figureHtml('candidate-curve', ctx.candidateCurve)}
${figureHtml('circuit-map', ctx.circuitMap)}
</div>
<p class="muted">${picturesNote(ctx.pictureKind)}</p>
<div class="methods">
${galleryHtml(ctx, 'pure', byMethod?.get('pure'), count, silhouetteAt(n.silhouettes, counts, count))}
${galleryHtml(ctx, 'activation', byMethod?.get('activation'), count, silhouetteAt(n.activationSilhouettes, counts, count))}
</div>
<div class="evidence">
${verdictHtml(n, counts)}
${evaluationHtml(layer.evaluation?.byNeuron.get(n.neuron), count)}
</div>
<dialog id="zoom"><figure><img alt=""><figcaption></figcaption></figure></dialog>`;
  return page(`neuron ${n.neuron} · ${layer.layer} · ${run.config.runId}`, body, '../');
}

function crumbs(ctx: NeuronPageContext): string {
  const { run, layer } = ctx;
  const step = (neuron: number | null, label: string) =>
    neuron === null ? '' : ` · <a href="neuron-${neuron}.html" rel="${label}">${label} (${neuron})</a>`;
  return `<nav class="crumbs"><a href="../index.html">run ${h(run.config.runId)}</a> › <a href="${h(fromNeuronPage(layerPage(layer.index)))}">layer <code>${h(layer.layer)}</code></a> › neuron ${ctx.neuron.neuron}${step(ctx.previous, 'previous')}${step(ctx.next, 'next')}</nav>`;
}

function monosemanticNote(n: ReportNeuron, count: number): string {
  if (n.nClusters > 1) return '';
  const best = n.verdict?.bestCount === count ? ' (its best count)' : '';
  return `<p class="note">Automatic choice: 1 (monosemantic); showing the ${count}-cluster split${best} for comparison.</p>`;
}

function picturesNote(kind: PictureKind): string {
  return kind === 'crop'
    ? "Pictures: each virtual neuron's highest-ranked reference images, cropped to what the neuron looks at (its heatmap on the image, blurred; cropped where above 1 % of its maximum, dimmed where below 2 %). Click one for the heatmap over the whole image (red: for the neuron, blue: against)."
    : "Pictures: each virtual neuron's highest-ranked reference images as the model sees them (heatmap crops are drawn for the most polysemantic neurons of each layer: <code>pure report --top N</code>). Click one to enlarge.";
}

export function figureHtml(kind: string, figure: Figure | null): string {
  if (!figure) return '';
  return `<figure class="chart ${kind}">${figure.svg}<figcaption>${figure.caption}</figcaption></figure>`;
}

function galleryHtml(
  ctx: NeuronPageContext,
  method: ClusterMethod,
  clusters: readonly VirtualNeuron[] | undefined,
  count: number,
  silhouette: number | undefined,
): string {
  const title =
    method === 'pure'
      ? `PURE (circuits) · ${count} virtual neurons`
      : `Activation baseline · ${count} clusters`;
  const blocks =
    !clusters || clusters.length === 0
      ? '<p class="muted">no clustering stored</p>'
      : clusters.map((vn) => virtualNeuronHtml(ctx, method, vn)).join('\n');
  return `<div class="gallery" data-method="${method}"><h2>${title} · silhouette ${fmt(silhouette)}</h2>
${blocks}
</div>`;
}

function virtualNeuronHtml(ctx: NeuronPageContext, method: ClusterMethod, vn: VirtualNeuron): string {
  const name = method === 'pure' ? 'virtual neuron' : 'cluster';
  const thumbs = vn.images.map((img) => thumbHtml(ctx, img)).join('');
  const circuit = method === 'pure' ? circuitHtml(ctx, ctx.circuits.get(vn.cluster)) : '';
  return `<div class="vn" data-cluster="${vn.cluster}"><div class="meta">${name} ${vn.cluster}: ${virtualNeuronMeta(vn)}</div>
${labelBar(vn.labels, vn.ranks.length, ctx.run.labels)}<div class="thumbs">${thumbs}</div>${circuit}</div>`;
}

/**
 * Size and label of a virtual neuron: the evaluation's record (size, majority label and its purity, the
 * crops' mean distance) where the run has one, else what the report counts from the references.
 */
function virtualNeuronMeta(vn: VirtualNeuron): string {
  const r = vn.record;
  if (!r) {
    const label = vn.mainLabel
      ? ` · main label <b>${h(vn.mainLabel.label)}</b> (${vn.mainLabel.count}/${vn.ranks.length})`
      : '';
    return `<b>${vn.ranks.length}</b> images${label}`;
  }
  const label =
    r.majorityLabel === null
      ? ''
      : ` · majority label <b>${h(r.majorityLabel)}</b> (purity ${fmt(r.labelPurity, 2)})`;
  const inner = r.inner === null ? '' : ` · inner ${fmt(r.inner)}`;
  return `<b>${r.size}</b> images${label}${inner}`;
}

/** The labels of a virtual neuron's images as one bar, a segment per label (hover: label and count). */
function labelBar(labels: readonly LabelCount[], members: number, runLabels: readonly string[]): string {
  if (labels.length === 0 || members === 0) return '';
  const segments = labels.map(({ label, count }) => {
    const width = ((100 * count) / members).toFixed(1);
    return `<span style="width:${width}%;background:${labelColour(label, runLabels)}" title="${h(label)}: ${count} of ${members}"></span>`;
  });
  return `<div class="labelbar" role="img" aria-label="label mix">${segments.join('')}</div>`;
}

function labelColour(label: string, runLabels: readonly string[]): string {
  const place = Math.max(0, runLabels.indexOf(label));
  return LABEL_COLOURS[place % LABEL_COLOURS.length]!;
}

/** A thumbnail that opens its enlarged picture (with JS in a dialog, without as a plain link). */
function thumbHtml(ctx: NeuronPageContext, img: ReportImage): string {
  const paths = picturePaths(
    ctx.pictureKind,
    ctx.layer.index,
    ctx.neuron.neuron,
    img.sampleIndex,
    ctx.largeFormat,
  );
  const title = `#${img.rank} ${img.sampleId}${img.label === null ? '' : ` (${img.label})`}`;
  return `<a class="zoom" href="${h(fromNeuronPage(paths.large))}" data-caption="${h(title)}"><img src="${h(fromNeuronPage(paths.thumb))}" alt="${h(title)}" title="${h(title)}" loading="lazy" width="64" height="64"></a>`;
}

/** A PURE virtual neuron's circuit: its top lower-layer channels, their share of the circuit as a bar. */
function circuitHtml(ctx: NeuronPageContext, channels: readonly CircuitChannel[] | undefined): string {
  if (!channels || channels.length === 0) return '';
  const top = Math.max(...channels.map((c) => c.share));
  const rows = channels.map((c) => {
    const href = ctx.lower?.pageOf?.(c.channel);
    const name = href ? `<a href="${h(href)}">${c.channel}</a>` : String(c.channel);
    const width = top > 0 ? ((90 * c.share) / top).toFixed(0) : '0';
    return `<tr data-channel="${c.channel}"><td class="num">${name}</td><td class="num">${fmt(c.meanRelevance)}</td><td class="num">${fmt(100 * c.share, 1)} %</td><td class="bar"><span style="width:${width}px"></span></td></tr>`;
  });
  return `<table class="circuit"><thead><tr><th>lower channel</th><th>mean relevance</th><th>share</th><th></th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

/** The silhouette at cluster count `n`; `silhouettes` follows `counts` (the candidates, increasing). */
export function silhouetteAt(silhouettes: number[], counts: number[], n: number): number | undefined {
  const i = counts.indexOf(n);
  return i < 0 ? undefined : silhouettes[i];
}
