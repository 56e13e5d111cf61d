/**
 * The scores of the report in plain words, on the overview page (each term once; the docs have the
 * mathematics). Kept beside the pages so that a change of a score's meaning changes its explanation.
 */
import { CLEAR_GAIN, VERDICT_ALPHA } from '../core/compute/evaluation/verdicts.js';

const TERMS: readonly [term: string, meaning: string][] = [
  [
    'neuron, reference images',
    'A neuron is one channel of an explained layer. Its reference images are the images of the dataset on which it fires most (the top k by its largest activation).',
  ],
  [
    'circuit vector',
    "For one reference image: how much each channel of the layer below contributed to the neuron's activation on that image (gradient × activation, summed over positions). Two images whose circuit vectors agree reach the neuron through the same lower-layer features.",
  ],
  [
    'virtual neuron',
    "A group of a neuron's reference images whose circuits agree (k-means on the circuit vectors): one meaning of a polysemantic neuron. The Activation baseline groups the same images by the layer's activations instead. A virtual neuron's circuit is the mean of its images' circuit vectors; its top channels are the lower-layer neurons that drive it.",
  ],
  [
    'polysemanticity P',
    'How strongly the circuit vectors form separate groups, from 0 (one cloud: a single meaning) to 1 (tight, distinct groups), measured against random rotations of the same points so that it means the same in narrow and wide layers.',
  ],
  [
    'silhouette',
    "How much closer each image's circuit is to its own virtual neuron than to the nearest other one, from −1 to 1, averaged over the images; the candidate cluster count with the best silhouette is the neuron's best count.",
  ],
  [
    'evidence',
    'How far the clustering is from what one Gaussian cloud of the same shape would give, in standard deviations (a gap statistic): large means the groups are not chance.',
  ],
  [
    'decision (split or kept whole)',
    `Without an evaluator, a neuron is split into its best count when evidence ≥ 4 and P ≥ 0.5. With one, when PURE's split at its best count is clearly (coherence gain ≥ ${CLEAR_GAIN}) and significantly (p < ${VERDICT_ALPHA}) more coherent than random splits of the same sizes.`,
  ],
  [
    'inner and inter distance',
    "With an evaluator (an image encoder such as CLIP), each reference image's crop (the part the neuron looks at) is embedded; inner is the mean distance between crops of the same virtual neuron (lower: each virtual neuron means one thing), inter between crops of different ones.",
  ],
  [
    'coherence gain and p-value',
    'Coherence gain = 1 − inner / the inner distance of random splits with the same cluster sizes; the p-value is the share of those random splits that are at least as coherent (a permutation test).',
  ],
  [
    'PURE, Activation, upper bound, random',
    "The four ways the evaluation splits a neuron's images: by circuits (PURE), by activations (the baseline), by k-means on the crops' embeddings themselves (the best any split can do in that space), and at random (chance).",
  ],
  [
    'label purity',
    "The share of a virtual neuron's images that carry its most common class label: a check that does not reuse the encoder.",
  ],
];

/** The glossary section of the overview page. */
export function glossaryHtml(): string {
  const entries = TERMS.map(([term, meaning]) => `<dt>${term}</dt><dd>${meaning}</dd>`).join('\n');
  return `<section class="glossary" id="glossary">
<h2>What the scores mean</h2>
<dl class="glossary">
${entries}
</dl>
<p class="muted">The definitions in full: <code>docs/clustering.md</code> (cluster count, polysemanticity, evidence, the decision and its calibration), <code>docs/outputs.md</code> (every column of the tables) and <code>docs/design.md</code> (the method) in the pure repository.</p>
</section>`;
}
