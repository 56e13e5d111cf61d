/**
 * The report's charts as Vega-Lite specs: pure functions of typed rows, drawn by render.ts. Every spec
 * keeps its data inline under a name (`data: { name, values }`) and nothing else that depends on the
 * data (what does, such as the rules of the chosen count, is data too), so that `ChartRenderer` compiles
 * each chart kind once and runs it with the data of each page. Rows are copied into plain records;
 * values that are not finite numbers are left out (vega would drop them anyway, or fail on them) and the
 * description, which becomes the SVG's label, says how many.
 *
 * The spec objects are typed loosely (`chart` casts them): vega-lite's types do not narrow literals built
 * in pieces. vega-lite checks them when compiling, and the unit tests assert that it has nothing to say.
 */

import type { TopLevelSpec } from 'vega-lite';
import type { Datum } from './render.js';

/**
 * The look shared by every chart: the pages' font, plain greys. Vega estimates a text's width (0.8 em a
 * character, no canvas here), so a rotated axis title longer than its axis pushes the layout apart: the
 * specs keep those titles short.
 */
const CONFIG = {
  font: 'system-ui, sans-serif',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: 'normal', labelLimit: 200 },
  legend: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: 'normal', labelLimit: 0, titleLimit: 0 },
  header: { labelFontSize: 11, titleFontSize: 11, labelLimit: 0, labelPadding: 4 },
} as const;

/** A spec with the shared look. */
function chart(description: string, spec: Record<string, unknown>): TopLevelSpec {
  return { description, config: CONFIG, padding: 5, ...spec } as TopLevelSpec;
}

/** " (n values that are not finite numbers are left out)", or nothing when n is 0. */
function leftOut(n: number): string {
  if (n === 0) return '';
  const what = n === 1 ? 'value that is not a finite number is' : 'values that are not finite numbers are';
  return ` (${n} ${what} left out)`;
}

/** Names (of layers, panels, series) numbered in first-seen order, to sort them as the caller listed them. */
function firstSeenOrder(names: Iterable<string>): Map<string, number> {
  const order = new Map<string, number>();
  for (const name of names) if (!order.has(name)) order.set(name, order.size);
  return order;
}

/** A row facet by layer, in the caller's order, the layer name left-aligned over each panel. */
function byLayer(): Record<string, unknown> {
  return {
    field: 'layer',
    type: 'nominal',
    title: null,
    sort: { field: 'layerOrder', op: 'min' },
    header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' },
  };
}

/**
 * The distribution of polysemanticity (0..1; clamped to it) over each layer's neurons: one histogram per
 * layer, 20 bins of 0.05, the layers in the order given, each with its own count axis (layers differ in
 * size).
 */
export function polysemanticityHistogram(
  rows: readonly { layer: string; polysemanticity: number }[],
): TopLevelSpec {
  const order = firstSeenOrder(rows.map((r) => r.layer));
  const finite = rows.filter((r) => Number.isFinite(r.polysemanticity));
  const values: Datum[] = finite.map((r) => ({
    layer: r.layer,
    layerOrder: order.get(r.layer),
    polysemanticity: Math.min(1, Math.max(0, r.polysemanticity)),
  }));
  return chart(
    `Histogram of polysemanticity per layer, ${values.length} neurons${leftOut(rows.length - finite.length)}`,
    {
      data: { name: 'neurons', values },
      facet: { row: byLayer() },
      resolve: { scale: { y: 'independent' } },
      spacing: 8,
      spec: {
        width: 360,
        height: 70,
        mark: { type: 'bar', color: '#4c78a8', binSpacing: 1 },
        encoding: {
          x: {
            field: 'polysemanticity',
            type: 'quantitative',
            bin: { extent: [0, 1], step: 0.05 },
            title: 'polysemanticity',
            axis: { format: '.1f' },
          },
          y: { aggregate: 'count', type: 'quantitative', title: 'neurons', axis: { tickMinStep: 1 } },
        },
      },
    },
  );
}

/**
 * How many neurons of each layer were kept whole (1 virtual neuron) or split into 2, 3, ... virtual
 * neurons: one horizontal bar per layer, stacked by the count, darker for more virtual neurons.
 */
export function splitCounts(rows: readonly { layer: string; nClusters: number }[]): TopLevelSpec {
  const order = firstSeenOrder(rows.map((r) => r.layer));
  const tally = new Map<string, Map<number, number>>();
  let dropped = 0;
  for (const { layer, nClusters } of rows) {
    if (!Number.isFinite(nClusters)) {
      dropped++;
      continue;
    }
    const counts = tally.get(layer) ?? new Map<number, number>();
    counts.set(nClusters, (counts.get(nClusters) ?? 0) + 1);
    tally.set(layer, counts);
  }
  const values: Datum[] = [...tally].flatMap(([layer, counts]) =>
    [...counts]
      .sort(([a], [b]) => a - b)
      .map(([virtualNeurons, neurons]) => ({ layer, layerOrder: order.get(layer), virtualNeurons, neurons })),
  );
  return chart(`Neurons per layer kept whole or split into virtual neurons${leftOut(dropped)}`, {
    data: { name: 'splits', values },
    width: 360,
    height: { step: 20 },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'layer', type: 'nominal', title: 'layer', sort: { field: 'layerOrder', op: 'min' } },
      x: { field: 'neurons', type: 'quantitative', aggregate: 'sum', title: 'neurons', stack: 'zero' },
      color: {
        field: 'virtualNeurons',
        type: 'ordinal',
        title: 'virtual neurons',
        scale: { scheme: { name: 'blues', extent: [0.3, 1] } },
        legend: { labelExpr: "datum.value === 1 ? '1 (kept whole)' : datum.label" },
      },
      order: { field: 'virtualNeurons', type: 'quantitative', sort: 'ascending' },
    },
  });
}

/** The evaluation's methods in the report's words and order, and their colours (PURE stands out). */
const METHODS = {
  pure: { name: 'PURE', colour: '#d62728' },
  activation: { name: 'Activation', colour: '#1f77b4' },
  embedding: { name: 'Upper bound (embedding)', colour: '#2ca02c' },
  random: { name: 'Random', colour: '#7f7f7f' },
} as const;

/** The two distances, as the panels title them. */
const METRICS = {
  inner: 'inner distance (lower is better)',
  inter: 'inter distance (higher is better)',
} as const;

/** One point of the evaluation: a method's mean distance at a cluster count, with its standard error. */
export interface EvaluationPoint {
  layer: string;
  method: keyof typeof METHODS;
  count: number;
  metric: keyof typeof METRICS;
  mean: number;
  se: number;
}

/**
 * The PURE paper's evaluation chart: per cluster count, the mean inner and inter distance of each method
 * in the evaluator's embedding space, with mean ± standard error bars; one panel per distance (each with
 * its own axis), a row of two panels per layer (named in the panels' titles when there are several). A
 * mean that is not finite is left out; a standard error that is not finite draws no bar.
 */
export function evaluationChart(rows: readonly EvaluationPoint[]): TopLevelSpec {
  const order = firstSeenOrder(rows.map((r) => r.layer));
  const metrics = Object.keys(METRICS) as (keyof typeof METRICS)[];
  const finite = rows.filter((r) => Number.isFinite(r.mean) && Number.isFinite(r.count));
  const values: Datum[] = finite.map((r) => {
    const se = Number.isFinite(r.se) ? Math.abs(r.se) : 0;
    return {
      panel: order.size > 1 ? `${r.layer}: ${METRICS[r.metric]}` : METRICS[r.metric],
      panelOrder: (order.get(r.layer) ?? 0) * metrics.length + metrics.indexOf(r.metric),
      method: METHODS[r.method].name,
      count: r.count,
      mean: r.mean,
      lower: r.mean - se,
      upper: r.mean + se,
    };
  });
  const y = { type: 'quantitative', scale: { zero: false }, title: 'mean distance' };
  return chart(
    `Inner and inter distances per method and cluster count${leftOut(rows.length - finite.length)}`,
    {
      data: { name: 'evaluation', values },
      facet: { field: 'panel', type: 'nominal', title: null, sort: { field: 'panelOrder', op: 'min' } },
      columns: metrics.length,
      resolve: { scale: { y: 'independent' } },
      spacing: 16,
      spec: {
        width: 220,
        height: 150,
        encoding: methodsSideBySide(),
        layer: [
          { mark: { type: 'rule' }, encoding: { y: { ...y, field: 'lower' }, y2: { field: 'upper' } } },
          {
            mark: { type: 'point', filled: true, size: 40, opacity: 1 },
            encoding: { y: { ...y, field: 'mean' } },
          },
        ],
      },
    },
  );
}

/**
 * The evaluation chart's x and colour: the cluster counts, and the methods side by side at each, in
 * METHODS's order and colours.
 */
function methodsSideBySide(): Record<string, unknown> {
  const names = Object.values(METHODS).map((m) => m.name);
  const colours = Object.values(METHODS).map((m) => m.colour);
  return {
    x: { field: 'count', type: 'ordinal', title: 'clusters', axis: { labelAngle: 0 } },
    xOffset: { field: 'method', type: 'nominal', sort: names, scale: { domain: names, paddingOuter: 0.5 } },
    color: {
      field: 'method',
      type: 'nominal',
      title: 'method (bars: ± standard error)',
      sort: names,
      scale: { domain: names, range: colours },
    },
  };
}

/** A value of a candidate-count curve; `panel` (default: the series) groups curves on one axis. */
export interface CandidatePoint {
  count: number;
  series: string;
  value: number;
  panel?: string;
}

/**
 * A neuron's curves over the candidate cluster counts (silhouettes of PURE and Activation, evidence, P),
 * one panel per `panel` (its own value axis: the series have different ranges), with a solid rule at the
 * chosen count and a dashed one at the best. Values that are not finite are left out; a count under 1
 * (a best count of 0: none fits) draws no rule.
 */
export function candidateCurve(
  rows: readonly CandidatePoint[],
  options: { chosen?: number; best?: number } = {},
): TopLevelSpec {
  const panelOf = (r: CandidatePoint) => r.panel ?? r.series;
  const panels = firstSeenOrder(rows.map(panelOf));
  const series = firstSeenOrder(rows.map((r) => r.series));
  const finite = rows.filter((r) => Number.isFinite(r.value) && Number.isFinite(r.count));
  const values: Datum[] = finite.map((r) => ({
    kind: 'value',
    panel: panelOf(r),
    panelOrder: panels.get(panelOf(r)),
    series: r.series,
    seriesOrder: series.get(r.series),
    count: r.count,
    value: r.value,
  }));
  for (const kind of ['chosen', 'best'] as const) {
    const count = options[kind];
    if (count === undefined || !Number.isFinite(count) || count < 1) continue;
    for (const [panel, panelOrder] of panels) values.push({ kind, panel, panelOrder, count });
  }
  return chart(`Curves over the candidate cluster counts${leftOut(rows.length - finite.length)}`, {
    data: { name: 'candidates', values },
    facet: {
      column: { field: 'panel', type: 'nominal', title: null, sort: { field: 'panelOrder', op: 'min' } },
    },
    resolve: { scale: { y: 'independent' } },
    spacing: 12,
    spec: {
      width: 150,
      height: 110,
      encoding: {
        x: {
          field: 'count',
          type: 'quantitative',
          title: 'clusters',
          scale: { zero: false, nice: false, padding: 8 },
          axis: { tickMinStep: 1, format: 'd' },
        },
      },
      layer: [candidateRules(), candidateLines()],
    },
  });
}

/** The rules of candidateCurve: solid at the chosen count, dashed at the best. */
function candidateRules(): Record<string, unknown> {
  return {
    transform: [{ filter: "datum.kind !== 'value'" }],
    mark: { type: 'rule', color: '#555' },
    encoding: {
      strokeDash: {
        field: 'kind',
        type: 'nominal',
        title: 'count',
        scale: {
          domain: ['chosen', 'best'],
          range: [
            [1, 0],
            [4, 3],
          ],
        },
      },
    },
  };
}

/** The curves of candidateCurve: a line with points per series, coloured by series. */
function candidateLines(): Record<string, unknown> {
  return {
    transform: [{ filter: "datum.kind === 'value'" }],
    mark: { type: 'line', point: { filled: true, size: 30 } },
    encoding: {
      y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: { field: 'seriesOrder', op: 'min' } },
    },
  };
}

/** A point of a circuit map: a reference sample's circuit vector placed in 2-D (umap.ts). */
export interface CircuitPoint {
  x: number;
  y: number;
  /** Its PURE cluster. */
  virtualNeuron: number;
  /** Its cluster by the Activation baseline. */
  baselineCluster: number;
  /** Its rank among the neuron's reference samples (1: the most activating). */
  rank: number;
  /** Its class label, where the data set has labels. */
  label: string | null;
}

/**
 * A neuron's reference samples as a map of their circuit vectors: colour is the virtual neuron (PURE
 * cluster), shape the Activation baseline's cluster, so a split the baseline misses shows as one shape in
 * two colours. The axes have no units (a 2-D embedding), so none are drawn. Each point's ARIA label names
 * its rank and class. Points with a coordinate that is not finite are left out.
 */
export function circuitMap(points: readonly CircuitPoint[]): TopLevelSpec {
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const values: Datum[] = finite.map((p) => ({
    x: p.x,
    y: p.y,
    virtualNeuron: p.virtualNeuron,
    baselineCluster: p.baselineCluster,
    about: [
      `rank ${p.rank}`,
      ...(p.label === null ? [] : [p.label]),
      `virtual neuron ${p.virtualNeuron}`,
      `activation cluster ${p.baselineCluster}`,
    ].join(', '),
  }));
  const position = { type: 'quantitative', axis: null, scale: { zero: false, padding: 10 } };
  return chart(
    `Map of the circuits of ${values.length} reference samples${leftOut(points.length - finite.length)}`,
    {
      data: { name: 'circuits', values },
      width: 260,
      height: 260,
      mark: { type: 'point', filled: true, size: 45, opacity: 0.85 },
      encoding: {
        x: { ...position, field: 'x' },
        y: { ...position, field: 'y' },
        color: {
          field: 'virtualNeuron',
          type: 'nominal',
          title: 'virtual neuron (PURE)',
          scale: { scheme: 'tableau10' },
        },
        shape: { field: 'baselineCluster', type: 'nominal', title: 'activation cluster' },
        description: { field: 'about', type: 'nominal' },
      },
    },
  );
}
