/**
 * The report's plots as figures (an SVG and its caption), from the run's data: per layer the
 * polysemanticity distribution, the split counts and the evaluation chart; per neuron the curves over the
 * candidate counts and the map of its circuit vectors. The charts themselves are Vega-Lite specs
 * (charts/specs.ts) drawn headless to SVG (charts/render.ts); this module only feeds them.
 */

import { ChartRenderer } from './charts/render.js';
import {
  type CandidatePoint,
  type CircuitPoint,
  candidateCurve,
  circuitMap,
  type EvaluationPoint,
  evaluationChart,
  polysemanticityHistogram,
  splitCounts,
} from './charts/specs.js';
import { circuitMapCoordinates } from './charts/umap.js';
import type { NeuronCircuits } from './circuits.js';
import type { ReportNeuron, VirtualNeuron } from './data.js';
import type { Figure } from './neuron-page.js';
import type { LayerReport } from './run.js';

/** Draws the figures of one report; the charts of one kind share a compiled spec. */
export class ReportPlots {
  private readonly renderer = new ChartRenderer();

  /** A layer's figures for the overview: distribution, split counts, and the evaluation where there is one. */
  async layerFigures(layer: LayerReport): Promise<Figure[]> {
    const figures: Figure[] = [
      {
        svg: await this.renderer.render(
          polysemanticityHistogram(
            layer.neurons.map((n) => ({ layer: layer.layer, polysemanticity: n.polysemanticity })),
          ),
        ),
        caption: `Polysemanticity P of the layer's ${layer.neurons.length} neurons: near 0, one group of circuits (one meaning); near 1, distinct groups.`,
      },
      {
        svg: await this.renderer.render(
          splitCounts(layer.neurons.map((n) => ({ layer: layer.layer, nClusters: n.nClusters }))),
        ),
        caption: 'Neurons kept whole (1) and split into 2, 3, … virtual neurons.',
      },
    ];
    if (layer.evaluation && layer.evaluation.summary.length > 0) {
      const points: EvaluationPoint[] = layer.evaluation.summary.flatMap((s) => [
        {
          layer: layer.layer,
          method: s.method,
          count: s.nClusters,
          metric: 'inner',
          mean: s.innerMean,
          se: s.innerStandardError,
        },
        {
          layer: layer.layer,
          method: s.method,
          count: s.nClusters,
          metric: 'inter',
          mean: s.interMean,
          se: s.interStandardError,
        },
      ]);
      figures.push({
        svg: await this.renderer.render(evaluationChart(points)),
        caption:
          "In the evaluator's embedding space, mean ± standard error over the layer's neurons: inner, the distance between crops of the same virtual neuron (lower is more coherent), and inter, between different ones, for PURE, the Activation baseline, the upper bound (k-means on the embeddings) and random splits.",
      });
    }
    return figures;
  }

  /** A neuron's silhouettes (and, where recorded, evidence and P) over the candidate counts. */
  async candidateCurve(n: ReportNeuron, counts: readonly number[]): Promise<Figure> {
    const rows: CandidatePoint[] = counts.flatMap((count, i) => {
      const points: CandidatePoint[] = [
        { count, series: 'PURE', panel: 'silhouette', value: n.silhouettes[i] ?? Number.NaN },
        { count, series: 'Activation', panel: 'silhouette', value: n.activationSilhouettes[i] ?? Number.NaN },
      ];
      if (n.verdict) {
        points.push(
          { count, series: 'evidence', value: n.verdict.candidateEvidence[i] ?? Number.NaN },
          { count, series: 'P', value: n.verdict.candidatePolysemanticity[i] ?? Number.NaN },
        );
      }
      return points;
    });
    const options = {
      ...(n.nClusters > 1 ? { chosen: n.nClusters } : {}),
      ...(n.verdict ? { best: n.verdict.bestCount } : {}),
    };
    return {
      svg: await this.renderer.render(candidateCurve(rows, options)),
      caption:
        "Over the candidate cluster counts: the silhouette of the circuits' clusters (PURE) and of the activations' (baseline), and where recorded the evidence and P of the split decision; solid rule at the chosen count, dashed at the best.",
    };
  }

  /**
   * The map of a neuron's circuit vectors: UMAP to 2-D (seeded by the neuron id, so the picture is the same
   * on every report), colour by PURE virtual neuron, shape by Activation cluster.
   */
  async circuitMap(
    neuron: number,
    circuits: NeuronCircuits,
    pure: readonly VirtualNeuron[],
    activation: readonly VirtualNeuron[],
  ): Promise<Figure | null> {
    const ranks = [...circuits.vectors.keys()];
    if (ranks.length === 0) return null;
    const coordinates = circuitMapCoordinates(
      ranks.map((r) => circuits.vectors.get(r)!),
      neuron + 1,
    );
    const pureOf = clusterOfRank(pure);
    const activationOf = clusterOfRank(activation);
    const points: CircuitPoint[] = ranks.map((rank, i) => ({
      x: coordinates[i]![0],
      y: coordinates[i]![1],
      virtualNeuron: pureOf.get(rank) ?? -1,
      baselineCluster: activationOf.get(rank) ?? -1,
      rank,
      label: circuits.labels.get(rank) ?? null,
    }));
    return {
      svg: await this.renderer.render(circuitMap(points)),
      caption:
        "Each reference image's circuit vector, mapped to 2-D with UMAP: colour is its PURE virtual neuron, shape its Activation cluster. Groups of one shape in two colours are meanings the activations alone do not separate.",
    };
  }
}

/** rank → cluster id over a clustering's virtual neurons. */
function clusterOfRank(clusters: readonly VirtualNeuron[]): Map<number, number> {
  return new Map(clusters.flatMap((vn) => vn.ranks.map((rank) => [rank, vn.cluster] as const)));
}
