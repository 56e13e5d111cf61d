/**
 * What `pure run` prints when a sweep is done: one screen with the verdicts per layer, the evaluation
 * (PURE vs Activation vs the upper bound vs random, mean +- s.e. over neurons), and where to look next;
 * and what `pure assign` prints.
 */
import type { LayerSummary } from '../core/stages/virtual-neurons.js';
import type { AssignResult } from '../workflows/assign.js';
import type { SweepResult } from '../workflows/sweep.js';

const short = (layer: string) => (layer.length > 28 ? `...${layer.slice(-25)}` : layer);
const pm = (mean: number, error: number, digits = 2) =>
  `${mean.toFixed(digits)} ± ${Number.isFinite(error) ? error.toFixed(digits) : '-'}`;

const signed = (m: { mean: number; standardError: number }) =>
  Number.isFinite(m.mean) ? `${m.mean >= 0 ? '+' : ''}${pm(m.mean, m.standardError, 3)}` : '-';

/** `cropped`: whether the sweep ran the crops (step 4), which write `crops/` even without an evaluator. */
export function sweepSummary(result: SweepResult, cropped = false): string {
  const root = result.runUri;
  const explained = result.virtualNeurons;
  const evaluated = explained.filter((v) => v.evaluation && v.evaluation.length > 0);
  const lines = [
    '',
    `Done: ${result.numSamples} images, ${result.layers.length} layers, ${result.skipped} images skipped ` +
      `(${result.shardsComputed} shards computed, ${result.shardsReused} reused).`,
    ...explained.map(
      (v) =>
        `  ${v.layer}: ${v.polysemantic} of ${v.neurons} neurons split into virtual neurons ` +
        `(mean polysemanticity ${v.meanPolysemanticity.toFixed(3)})`,
    ),
    ...(evaluated.length > 0 ? evaluationLines(evaluated) : []),
    `Outputs under ${root}/ (docs/outputs.md):`,
    `  ${tablesOf(result, cropped).join('  ')}`,
    `Query: npx pure query ${root} "SELECT layer, neuron, n_clusters, polysemanticity, decision FROM neurons ORDER BY polysemanticity DESC LIMIT 10"`,
    ...(explained.length > 0
      ? [`Report: npx pure report ${root}   (HTML: virtual neurons with heatmap crops)`]
      : []),
    '',
  ];
  return lines.join('\n');
}

function tablesOf(result: SweepResult, cropped: boolean): string[] {
  const tables = ['samples/', 'references/', 'skipped/'];
  if (result.virtualNeurons.length > 0) tables.push('relevance/', 'activations/', 'clusters/', 'neurons/');
  const evaluated = result.virtualNeurons.some((v) => v.evaluation);
  if (result.virtualNeurons.length > 0 && (cropped || evaluated)) tables.push('crops/');
  if (evaluated) tables.push('embeddings/', 'evaluation/', 'virtual_neurons/');
  return tables;
}

/** Per layer, at the smallest cluster count: the four methods' inner and inter distance and gain. */
function evaluationLines(layers: readonly LayerSummary[]): string[] {
  const count = Math.min(...layers.flatMap((l) => l.evaluation!.map((e) => e.nClusters)));
  const lines = [
    `Evaluation at ${count} clusters per neuron (mean ± s.e. over neurons; embedding distances: inner lower, inter higher is better):`,
    `  ${'layer'.padEnd(28)} ${'method'.padEnd(10)} ${'inner'.padEnd(15)} ${'inter'.padEnd(15)} gain vs random  p < 0.05`,
  ];
  for (const layer of layers) {
    for (const row of layer.evaluation!.filter((e) => e.nClusters === count)) {
      lines.push(
        `  ${(row.method === 'pure' ? short(layer.layer) : '').padEnd(28)} ${row.method.padEnd(10)} ` +
          `${pm(row.innerMean, row.innerStandardError).padEnd(15)} ${pm(row.interMean, row.interStandardError).padEnd(15)} ` +
          `${(row.method === 'random' ? '' : pm(row.coherenceGainMean, row.coherenceGainStandardError, 3)).padEnd(15)} ` +
          `${row.significantShare === null ? '' : `${Math.round(100 * row.significantShare)} %`}`,
      );
    }
  }
  for (const layer of layers) {
    const v = layer.verdicts;
    if (!v) continue;
    lines.push(
      `  ${short(layer.layer)}: split ${v.split} (each a significant, clear PURE gain), kept ${v.monosemantic} whole` +
        (Number.isFinite(v.splitPurityGain.mean) || Number.isFinite(v.wholePurityGain.mean)
          ? `; class purity above chance: split ${signed(v.splitPurityGain)}, whole ${signed(v.wholePurityGain)}`
          : ''),
    );
  }
  return lines;
}

const thousands = (n: number) => n.toLocaleString('en-US');

/** What `pure assign` prints when done: images, neurons, per layer how many pairs were assigned, where. */
export function assignSummary(result: AssignResult): string {
  const neurons = result.layers.reduce((n, l) => n + l.neurons, 0);
  const split = result.layers.reduce((n, l) => n + l.split, 0);
  const root = result.assignUri;
  const lines = [
    '',
    `Done: ${result.numSamples} images, ${result.skipped} skipped; ${neurons} neurons of ${result.layers.length} ` +
      `layer${result.layers.length === 1 ? '' : 's'}, ${split} with more than one virtual neuron ` +
      `(${result.shardsComputed} shards computed, ${result.shardsReused} reused).`,
    ...result.layers.map(
      (l) =>
        `  ${l.layer}: ${thousands(l.rows)} (image, neuron) pairs, ${thousands(l.assigned)} assigned to a virtual ` +
        `neuron, ${thousands(l.rows - l.assigned)} not (the neuron did not fire)`,
    ),
    `Outputs under ${root}/ (docs/outputs.md, "Assigning new images"):`,
    '  assignments/  centroids/  samples/  skipped/',
    `Query: npx pure query ${root} "SELECT layer, neuron, virtual_neuron, count(*) AS images FROM assignments ` +
      'WHERE virtual_neuron IS NOT NULL GROUP BY ALL ORDER BY ALL"',
    '',
  ];
  return lines.join('\n');
}
