import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UMAP } from 'umap-js';
import type { TopLevelSpec } from 'vega-lite';
import { createRandom } from '../../../core/compute/random.js';
import { ChartRenderer, renderSvg } from '../../../report/charts/render.js';
import {
  type CandidatePoint,
  type CircuitPoint,
  candidateCurve,
  circuitMap,
  type EvaluationPoint,
  evaluationChart,
  polysemanticityHistogram,
  splitCounts,
} from '../../../report/charts/specs.js';
import {
  circuitMapCoordinates,
  exactNeighbours,
  principalCoordinates,
  UMAP_EPOCHS,
  UMAP_MIN_POINTS,
  umapNeighbours,
} from '../../../report/charts/umap.js';
import { gaussianBlobs } from '../clustering/data.js';

const IMG = '<img src=x onerror=alert(1)>';
const QUOTES = `"'><b>x`;

/**
 * The items of a chart's data marks of one type: the elements inside each `<g class="mark-<type>
 * role-mark ...">` (an empty one is written `<g .../>`).
 */
function markItems(svg: string, type: string): number {
  const groups = new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*?(?:/>|>(.*?)</g>)`, 'g');
  let items = 0;
  for (const [, group] of svg.matchAll(groups))
    items += (group?.match(/<(path|line|rect|text)\b/g) ?? []).length;
  return items;
}

/**
 * Checks that the SVG is one well-formed element tree: every tag closed in order, no stray `<` or `>` in
 * text or attribute values (escaped text cannot open a tag), and names only the renderer's own elements.
 */
function assertWellFormed(svg: string): void {
  assert.match(svg, /^<svg role="img" aria-label="[^"<>]*" xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.endsWith('</svg>'));
  const open: string[] = [];
  const tag = /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<>]*")*)\s*(\/?)>|([^<>]+)|(.)/gs;
  for (const { 1: closing, 2: name, 4: selfClosing, 5: text, 6: stray, index } of svg.matchAll(tag)) {
    assert.equal(stray, undefined, `stray ${stray} at ${svg.slice(index, index + 80)}`);
    if (text !== undefined) continue;
    assert.ok(
      ['svg', 'g', 'path', 'rect', 'line', 'text', 'title', 'tspan'].includes(name!),
      `element ${name}`,
    );
    if (closing) assert.equal(open.pop(), name);
    else if (!selfClosing) open.push(name!);
  }
  assert.deepEqual(open, []);
  assert.doesNotMatch(svg, /<script|javascript:|https?:\/\/(?!www\.w3\.org\/)/i);
}

/** Collects what vega and vega-lite warn about while `run` runs (they log through console.warn). */
async function warningsOf(run: () => Promise<unknown>): Promise<string[]> {
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
  try {
    await run();
  } finally {
    console.warn = warn;
  }
  return warnings;
}

const polysemanticity = [
  { layer: 'features.3', polysemanticity: 0.01 },
  { layer: 'features.3', polysemanticity: 0.02 },
  { layer: 'features.3', polysemanticity: 0.52 },
  { layer: IMG, polysemanticity: 0.99 },
  { layer: QUOTES, polysemanticity: 0.3 },
];

const splits = [
  ...[1, 1, 1, 2, 3].map((nClusters) => ({ layer: IMG, nClusters })),
  ...[1, 2, 2, 5].map((nClusters) => ({ layer: QUOTES, nClusters })),
];

function evaluationRows(layers: string[]): EvaluationPoint[] {
  const methods = ['pure', 'activation', 'embedding', 'random'] as const;
  return layers.flatMap((layer) =>
    methods.flatMap((method, m) =>
      [2, 3].flatMap((count) =>
        (['inner', 'inter'] as const).map((metric) => ({
          layer,
          method,
          count,
          metric,
          mean: (metric === 'inner' ? 8 : 12) + m + count / 10,
          se: 0.1 * (m + 1),
        })),
      ),
    ),
  );
}

function candidateRows(evidence: number[] = [1.5, 6.1, 4.2, 3]): CandidatePoint[] {
  return [2, 3, 4, 5].flatMap((count, i) => [
    { count, series: 'silhouette PURE', panel: 'silhouette', value: 0.3 - i / 20 },
    { count, series: 'silhouette Activation', panel: 'silhouette', value: 0.2 - i / 30 },
    { count, series: 'evidence', value: evidence[i]! },
    { count, series: QUOTES, value: 0.4 + i / 10 },
  ]);
}

function circuitPoints(n: number, seed = 1): CircuitPoint[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    x: random() * 10,
    y: random() * 10,
    virtualNeuron: i % 3,
    baselineCluster: i % 2,
    rank: i + 1,
    label: i % 4 === 0 ? null : i % 2 ? IMG : QUOTES,
  }));
}

/** One chart of each kind. */
function everyChart(): Record<string, TopLevelSpec> {
  return {
    histogram: polysemanticityHistogram(polysemanticity),
    splits: splitCounts(splits),
    evaluation: evaluationChart(evaluationRows(['layer4', IMG])),
    candidates: candidateCurve(candidateRows(), { chosen: 3, best: 3 }),
    map: circuitMap(circuitPoints(20)),
  };
}

describe('charts: rendering', () => {
  const renderer = new ChartRenderer();

  test('every chart is one well-formed SVG element labelled for assistive technology', async () => {
    for (const [name, spec] of Object.entries(everyChart())) {
      const svg = await renderSvg(spec);
      assertWellFormed(svg);
      const label = `aria-label="${spec.description}"`;
      assert.ok(svg.startsWith(`<svg role="img" ${label}`), name);
      assert.ok(svg.includes(`<title>${spec.description}</title>`), name);
    }
  });

  test('vega and vega-lite have nothing to warn about', async () => {
    const warnings = await warningsOf(async () => {
      for (const spec of Object.values(everyChart())) await renderSvg(spec);
    });
    assert.deepEqual(warnings, []);
  });

  test('one mark item per data row', async () => {
    // features.3: bins [0, 0.05) and [0.5, 0.55); the other layers one bin each.
    assert.equal(markItems(await renderSvg(polysemanticityHistogram(polysemanticity)), 'rect'), 4);
    // IMG: 1, 2, 3; QUOTES: 1, 2, 5.
    assert.equal(markItems(await renderSvg(splitCounts(splits)), 'rect'), 6);
    const evaluation = await renderSvg(evaluationChart(evaluationRows(['layer4'])));
    assert.equal(markItems(evaluation, 'symbol'), 16);
    assert.equal(markItems(evaluation, 'rule'), 16);
    const candidates = await renderSvg(candidateCurve(candidateRows(), { chosen: 3, best: 2 }));
    assert.equal(markItems(candidates, 'symbol'), 16);
    assert.equal(markItems(candidates, 'line'), 4);
    assert.equal(markItems(candidates, 'rule'), 2 * 3, 'a chosen and a best rule in each of 3 panels');
    assert.equal(markItems(await renderSvg(circuitMap(circuitPoints(37))), 'symbol'), 37);
  });

  test('the same chart twice gives the same bytes', async () => {
    for (const spec of Object.values(everyChart())) {
      assert.equal(await renderSvg(spec), await renderSvg(structuredClone(spec)));
    }
  });

  test('the reusable renderer draws what the one-shot draws, whatever it drew before', async () => {
    // Each shape first with more data, then with less and different data (layout must shrink again).
    const sequences: TopLevelSpec[][] = [
      [polysemanticityHistogram(polysemanticity), polysemanticityHistogram(polysemanticity.slice(0, 2))],
      [splitCounts(splits), splitCounts(splits.slice(2, 4))],
      [evaluationChart(evaluationRows(['a', 'b', IMG])), evaluationChart(evaluationRows(['c']))],
      [candidateCurve(candidateRows(), { chosen: 3, best: 2 }), candidateCurve(candidateRows().slice(0, 5))],
      [circuitMap(circuitPoints(100)), circuitMap(circuitPoints(5, 2))],
    ];
    for (const spec of sequences.flat()) {
      assert.equal(await renderer.render(spec), await renderSvg(spec));
    }
    assert.equal(renderer.shapes, 5, 'one compiled shape per chart kind');
  });

  test('a renderer keeps at most its capacity of shapes, and still draws the others', async () => {
    const small = new ChartRenderer(1);
    const [map, splitBars] = [circuitMap(circuitPoints(4)), splitCounts(splits)];
    for (const spec of [map, splitBars, map]) assert.equal(await small.render(spec), await renderSvg(spec));
    assert.equal(small.shapes, 1);
  });

  test('concurrent renders of one shape do not mix their data', async () => {
    const specs = [5, 50, 1, 20].map((n) => circuitMap(circuitPoints(n, n)));
    const together = await Promise.all(specs.map((spec) => renderer.render(spec)));
    for (const [i, spec] of specs.entries()) assert.equal(together[i], await renderSvg(spec));
  });

  test('hostile layer names, series names, labels and descriptions stay text', async () => {
    const specs = Object.values(everyChart());
    specs.push({ ...circuitMap(circuitPoints(3)), description: `${IMG}${QUOTES}` });
    for (const spec of specs) {
      for (const svg of [await renderSvg(spec), await renderer.render(spec)]) {
        assertWellFormed(svg);
        assert.doesNotMatch(svg, /<img|<b>/);
        assert.match(svg, /&lt;img src=x onerror=al|&gt;&lt;b&gt;x/, 'a hostile string, escaped');
      }
    }
  });

  test('values that are not finite numbers are left out, and the label says how many', async () => {
    const spec = candidateCurve(
      candidateRows([Number.NaN, Number.POSITIVE_INFINITY, 2, Number.NEGATIVE_INFINITY]),
      {
        chosen: Number.NaN,
        best: 0,
      },
    );
    assert.match(spec.description ?? '', /\(3 values that are not finite numbers are left out\)/);
    const svg = await renderSvg(spec);
    assertWellFormed(svg);
    assert.doesNotMatch(svg, /NaN|Infinity/);
    assert.equal(markItems(svg, 'symbol'), 13);
    assert.equal(markItems(svg, 'rule'), 0, 'no rule for a count that is NaN or under 1');
    assert.equal(await renderer.render(spec), svg);

    const map = circuitMap([...circuitPoints(4), { ...circuitPoints(1)[0]!, x: Number.NaN }]);
    assert.match(map.description ?? '', /1 value that is not a finite number is left out/);
    assert.equal(markItems(await renderSvg(map), 'symbol'), 4);
    const histogram = polysemanticityHistogram([{ layer: 'a', polysemanticity: Number.POSITIVE_INFINITY }]);
    assert.equal(markItems(await renderSvg(histogram), 'rect'), 0);
    assert.doesNotMatch(
      await renderSvg(evaluationChart([{ ...evaluationRows(['a'])[0]!, se: Number.NaN }])),
      /NaN/,
    );
  });

  test('empty data give an empty chart, not an error', async () => {
    for (const spec of [
      polysemanticityHistogram([]),
      splitCounts([]),
      evaluationChart([]),
      candidateCurve([]),
      circuitMap([]),
    ]) {
      assertWellFormed(await renderSvg(spec));
      assert.equal(await renderer.render(spec), await renderSvg(spec));
    }
  });
});

/** For each point: is it closer to its own group's centroid than to every other group's, on the map? */
function closerToOwnCentroid(map: [number, number][], truth: number[]): boolean {
  const groups = [...new Set(truth)];
  const centroids = groups.map((g) => {
    const members = map.filter((_, i) => truth[i] === g);
    return [0, 1].map((d) => members.reduce((sum, p) => sum + p[d]!, 0) / members.length);
  });
  return map.every((p, i) => {
    const distances = centroids.map((c) => Math.hypot(p[0] - c[0]!, p[1] - c[1]!));
    return distances.every((d, g) => groups[g] === truth[i] || d > distances[groups.indexOf(truth[i]!)]!);
  });
}

describe('charts: circuit map coordinates', () => {
  const blobs = gaussianBlobs(7, 2, 30, 64, 10);

  test('the same seed gives the same map; another seed another map', () => {
    const a = circuitMapCoordinates(blobs.rows, 1);
    assert.deepEqual(circuitMapCoordinates(blobs.rows, 1), a);
    assert.deepEqual(
      circuitMapCoordinates(
        blobs.rows.map((r) => Float64Array.from(r)),
        1,
      ),
      a,
    );
    assert.notDeepEqual(circuitMapCoordinates(blobs.rows, 2), a);
  });

  test('two well-separated Gaussian blobs stay apart on the map', () => {
    for (const seed of [1, 2, 3]) {
      const map = circuitMapCoordinates(blobs.rows, seed);
      assert.equal(map.length, 60);
      assert.ok(closerToOwnCentroid(map, blobs.truth), `seed ${seed}`);
    }
    // An honest check: a grouping that is not the blobs' (the first and the second half, each half of
    // one blob and half of the other) does not pass it.
    const shuffled = blobs.truth.map((_, i) => (i < 30 ? 0 : 1));
    assert.ok(!closerToOwnCentroid(circuitMapCoordinates(blobs.rows, 1), shuffled));
  });

  test('tiny sets are placed exactly, by principal components', () => {
    assert.deepEqual(circuitMapCoordinates([], 1), []);
    assert.deepEqual(circuitMapCoordinates([[1, 2, 3]], 1), [[0, 0]]);
    const [a, b] = circuitMapCoordinates(
      [
        [0, 0],
        [3, 4],
      ],
      1,
    );
    assert.ok(
      Math.abs(a![0] - b![0] - 5) < 1e-12 && a![1] === 0 && b![1] === 0,
      'two points 5 apart on the first axis',
    );
    for (let n = 3; n <= UMAP_MIN_POINTS + 1; n++) {
      const map = circuitMapCoordinates(blobs.rows.slice(0, n), 3);
      assert.equal(map.length, n);
      assert.ok(map.flat().every(Number.isFinite), `n = ${n}`);
    }
    const small = gaussianBlobs(3, 2, 4, 16, 10);
    assert.ok(closerToOwnCentroid(circuitMapCoordinates(small.rows, 1), small.truth));
  });

  test('the principal projection keeps the distances of points on a plane', () => {
    const random = createRandom(5);
    const points = Array.from({ length: 7 }, () => {
      const [a, b] = [random() * 4, random()];
      return [a, b, a + b, a - b, a / 2];
    });
    const map = principalCoordinates(points);
    for (const [i, p] of points.entries()) {
      for (const [j, q] of points.entries()) {
        const original = Math.hypot(...p.map((x, d) => x - q[d]!));
        assert.ok(Math.abs(original - Math.hypot(map[i]![0] - map[j]![0], map[i]![1] - map[j]![1])) < 1e-9);
      }
    }
  });

  test("the map is umap-js's own, with exact neighbours and the curve fitted once", () => {
    const neighbours = umapNeighbours(blobs.rows.length);
    const { indices, distances } = exactNeighbours(blobs.rows, neighbours);
    assert.deepEqual(
      indices.map((row, i) => row[0] === i),
      indices.map(() => true),
      'each point first',
    );
    const umap = new UMAP({
      nComponents: 2,
      nNeighbors: neighbours,
      nEpochs: UMAP_EPOCHS,
      random: createRandom(9),
    });
    umap.setPrecomputedKNN(indices, distances);
    assert.deepEqual(circuitMapCoordinates(blobs.rows, 9), umap.fit(blobs.rows));
  });

  test('vectors of different lengths or with values that are not finite are refused', () => {
    assert.throws(() => circuitMapCoordinates([[1, 2], [1]], 1), /differ in length/);
    assert.throws(
      () =>
        circuitMapCoordinates(
          [
            [1, 2],
            [1, Number.NaN],
          ],
          1,
        ),
      /circuit vector 1/,
    );
  });
});
