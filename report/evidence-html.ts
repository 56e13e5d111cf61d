/**
 * Why a neuron was or was not split, as HTML: its verdict (the gates of the automatic count over the
 * candidate counts), the evaluation of its clusterings in the evaluator's embedding space, and the
 * layer's evaluation over all its neurons. Pure functions of the data; pages.ts places them.
 */

import type { EvaluationSummaryRow } from '../core/compute/evaluation/index.js';
import { CLEAR_GAIN, VERDICT_ALPHA } from '../core/compute/evaluation/verdicts.js';
import type { ReportNeuron, SplitVerdict } from './data.js';
import { type EvaluationScores, isSignificant, SIGNIFICANCE_LEVEL } from './evidence.js';
import { fmt, escapeHtml as h } from './html.js';

/** How the report names the evaluation's methods. */
const METHOD_NAMES: Record<EvaluationScores['method'], string> = {
  pure: 'PURE',
  activation: 'Activation',
  embedding: 'Embedding k-means (upper bound)',
  random: 'Random split (chance)',
};

const passFail = (passed: boolean): string =>
  passed ? '<span class="pass">passed</span>' : '<span class="fail">failed</span>';

/** A neuron whose run predates the verdict columns. */
const NO_VERDICT =
  '<p class="muted">This run does not record why the neuron was or was not split (its neurons table predates the verdict columns).</p>';

/**
 * The verdict block of a neuron: the decision in words, the two gates with their numbers, and the
 * candidate counts' table.
 */
export function verdictHtml(n: ReportNeuron, counts: readonly number[]): string {
  const v = n.verdict;
  return `<div class="verdict" data-split="${n.nClusters > 1}">
<h3>Verdict</h3>
${v ? `<p class="decision">${h(v.decision)}</p>\n${gatesHtml(n, v)}` : NO_VERDICT}
${candidatesHtml(n, counts)}
</div>`;
}

/**
 * One column per candidate count (`counts`, increasing): the silhouettes of both methods and, where the
 * run records them, the evidence and P the gates read. The best count's column (the chosen one in runs
 * without a verdict) is marked; evidence at or over its threshold passes; P passes or fails at the best count.
 */
function candidatesHtml(n: ReportNeuron, counts: readonly number[]): string {
  const v = n.verdict;
  const marked = v ? v.bestCount : n.nClusters;
  const classOf = (k: number, gate = '') => `num${k === marked ? ' best' : ''}${gate}`;
  const row = (name: string, values: readonly number[], gate = (_k: number, _x: number) => '') =>
    `<tr><th>${name}</th>${counts
      .map((k, i) => `<td class="${classOf(k, gate(k, values[i] ?? Number.NaN))}">${fmt(values[i])}</td>`)
      .join('')}</tr>`;
  const head = counts
    .map((k) => `<th class="${classOf(k)}">${k}${k === marked ? (v ? ' (best)' : ' (chosen)') : ''}</th>`)
    .join('');
  const rows = [row('silhouette PURE', n.silhouettes), row('silhouette Activation', n.activationSilhouettes)];
  if (v) {
    const evidenceGate = (_k: number, x: number) => (x >= v.evidenceThreshold ? ' pass' : '');
    const polysemanticityGate = (k: number, x: number) =>
      k !== v.bestCount ? '' : x >= v.polysemanticityThreshold ? ' pass' : ' fail';
    rows.push(
      row(`evidence (split needs max ≥ ${h(v.evidenceThreshold)})`, v.candidateEvidence, evidenceGate),
      row(
        `P (split needs ≥ ${h(v.polysemanticityThreshold)} at the best count)`,
        v.candidatePolysemanticity,
        polysemanticityGate,
      ),
    );
  }
  return `<table class="candidates"><thead><tr><th>clusters</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

/**
 * The gates of the split with their numbers: with an evaluator, the coherence of the PURE split (what
 * decided), then the circuit gates for reference; otherwise the largest evidence and P at the best count.
 */
function gatesHtml(n: ReportNeuron, v: SplitVerdict): string {
  const circuits = circuitGatesHtml(n, v);
  if (v.verdictBy !== 'evaluation') return `<p class="gates">${circuits}</p>`;
  const gain = v.coherenceGain;
  const p = v.coherencePValue;
  const coherence =
    gain === null || p === null
      ? 'coherence gate: no split to judge <span class="fail">failed</span>'
      : `coherence gate (decides): gain <b>${fmt(gain, 3)}</b> ≥ ${CLEAR_GAIN} and p <b>${fmt(p, 3)}</b> &lt; ${VERDICT_ALPHA}? ${passFail(gain >= CLEAR_GAIN && p < VERDICT_ALPHA)}`;
  return `<p class="gates">${coherence}</p>\n<p class="gates">circuit gates (not used with an evaluator): ${circuits}</p>`;
}

/** The circuit gates: the largest evidence, and P at the best count. */
function circuitGatesHtml(n: ReportNeuron, v: SplitVerdict): string {
  const evidence = `evidence gate: max <b>${fmt(v.evidence, 2)}</b> ≥ ${h(v.evidenceThreshold)}? ${passFail(v.evidence >= v.evidenceThreshold)}`;
  const polysemanticity =
    v.bestCount === 0
      ? 'P gate: no candidate count gives two distinct clusters <span class="fail">failed</span>'
      : `P gate: <b>${fmt(n.polysemanticity, 2)}</b> at ${v.bestCount} clusters ≥ ${h(v.polysemanticityThreshold)}? ${passFail(n.polysemanticity >= v.polysemanticityThreshold)}`;
  return `${evidence} · ${polysemanticity}`;
}

/**
 * Whether PURE's split at the shown count beats random splits of its sizes, in one line; for a neuron
 * kept whole (`split` false) whether the split it was judged on would have.
 */
export function significanceHtml(scores: EvaluationScores | undefined, split: boolean): string {
  if (!scores) return '';
  const significant = isSignificant(scores);
  const numbers = `p ${fmt(scores.pValue)} ${significant ? '&lt;' : '≥'} ${SIGNIFICANCE_LEVEL}, coherence gain ${fmt(scores.coherenceGain)}`;
  const verdict = split
    ? `PURE split in ${scores.nClusters}: ${significant ? 'significant' : 'not significant'}`
    : `Kept whole; PURE's split in ${scores.nClusters} would ${significant ? 'be' : 'not be'} significant`;
  return `<p class="badge${significant ? ' sig' : ''}" data-significant="${significant}">${verdict} (${numbers})</p>`;
}

/**
 * A neuron's clusterings in the evaluator's space, every method at every count; the rows at the shown
 * count marked, significant p-values in bold.
 */
export function evaluationHtml(scores: readonly EvaluationScores[] | undefined, shown: number): string {
  if (!scores || scores.length === 0) return '';
  const purity = scores.some((s) => s.labelPurity !== null);
  const rows = [...scores]
    .sort((a, b) => a.nClusters - b.nClusters)
    .map((s) => {
      const p = `<td class="num${isSignificant(s) ? ' sig' : ''}">${fmt(s.pValue)}</td>`;
      return `<tr${s.nClusters === shown ? ' class="shown"' : ''} data-method="${h(s.method)}" data-clusters="${s.nClusters}"><td class="num">${s.nClusters}</td><td>${METHOD_NAMES[s.method] ?? h(s.method)}</td><td class="num">${fmt(s.inner)}</td><td class="num">${fmt(s.inter)}</td><td class="num">${fmt(s.coherenceGain)}</td>${p}${purity ? `<td class="num">${fmt(s.labelPurity)}</td>` : ''}</tr>`;
    });
  return `<div class="evaluation">
<h3>Coherence in the evaluator's space</h3>
<table><thead><tr><th>clusters</th><th>method</th><th>inner ↓</th><th>inter ↑</th><th>coherence gain</th><th>p-value</th>${purity ? '<th>label purity</th>' : ''}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</div>`;
}

/** "mean ± standard error" of a summary column. */
const meanError = (mean: number, error: number): string => `${fmt(mean)} ± ${fmt(error)}`;

/** The layer's evaluation: per method and count, the mean ± standard error over its neurons. */
export function layerEvaluationHtml(summary: readonly EvaluationSummaryRow[]): string {
  if (summary.length === 0) return '';
  const rows = summary.map(
    (s) =>
      `<tr data-method="${h(s.method)}" data-clusters="${s.nClusters}"><td>${METHOD_NAMES[s.method] ?? h(s.method)}</td><td class="num">${s.nClusters}</td><td class="num">${s.neurons}</td><td class="num">${meanError(s.innerMean, s.innerStandardError)}</td><td class="num">${meanError(s.interMean, s.interStandardError)}</td><td class="num">${meanError(s.coherenceGainMean, s.coherenceGainStandardError)}</td><td class="num">${s.significantShare === null ? '–' : `${fmt(100 * s.significantShare, 0)} %`}</td></tr>`,
  );
  return `<section class="layer-evaluation">
<h2>Coherence of the virtual neurons in the evaluator's space</h2>
<p>Each clustering's crops through the run's image encoder: <b>inner</b> is the mean distance between crops of the same virtual neuron (lower: more coherent), <b>inter</b> between crops of different ones. <b>Coherence gain</b> = 1 − inner / inner of random splits with PURE's cluster sizes; the <b>p-value</b> is a one-sided permutation test against those splits (bold: p &lt; ${SIGNIFICANCE_LEVEL}). Embedding k-means clusters the crops' embeddings themselves (the upper bound); Random is the chance level. Mean ± standard error over the layer's neurons:</p>
<table><thead><tr><th>method</th><th>clusters</th><th>neurons</th><th>inner ↓</th><th>inter ↑</th><th>coherence gain</th><th>significant (p &lt; ${SIGNIFICANCE_LEVEL})</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</section>`;
}
