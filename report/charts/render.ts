/**
 * Vega-Lite specs to static SVG strings, for the report's pages: compiled to Vega, run by a headless
 * View (renderer 'none') and serialised by `View#toSVG`. No script, font or network resource ends up in
 * the output; text measurement is vega's estimate (no node-canvas), which is deterministic.
 *
 * Compiling (Vega-Lite to Vega) and parsing (Vega to a dataflow description) cost about as much as
 * running the chart, and a report draws the same few chart shapes for ~1,200 neurons. So `ChartRenderer`
 * parses each shape once, a shape being the spec without its data, and runs it with the data of each new
 * chart (npm run bench:charts).
 * That needs the data of a spec to be inline and named (`data: { name, values }`), as the builders of
 * specs.ts make them; unnamed inline data stay part of the shape (correct, but compiled every time).
 */

import { parse, type Runtime, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { escapeHtml } from '../html.js';

/** A row of chart data. */
export type Datum = Record<string, unknown>;

/**
 * Draws one spec to SVG, with no reuse: compile, parse, run, serialise. (Vega tags the rows of the spec's
 * inline data with a hidden symbol id; nothing else of the spec changes.)
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return labelSvg(await view.toSVG(), spec.description);
  } finally {
    view.finalize();
  }
}

/**
 * Draws many specs of few shapes: each shape is compiled and parsed once, and each chart runs in a fresh
 * View of it with the chart's named data. (Swapping data into one long-lived View is faster still, but
 * vega then reuses scenegraph items, so the SVG's element order would depend on the charts drawn before.)
 * Gives the same SVG as `renderSvg`, byte for byte.
 */
export class ChartRenderer {
  private readonly runtimes = new Map<string, Runtime>();

  /**
   * @param capacity how many shapes to keep parsed; the oldest is dropped beyond it. The report's charts
   * have one shape per kind, so this only bounds the memory of a caller whose shapes depend on the data.
   */
  constructor(private readonly capacity = 32) {}

  /** How many shapes are kept parsed. */
  get shapes(): number {
    return this.runtimes.size;
  }

  async render(spec: TopLevelSpec): Promise<string> {
    const { shape, datasets } = splitData(spec);
    const key = JSON.stringify(shape);
    let runtime = this.runtimes.get(key);
    if (!runtime) {
      runtime = parse(compile(shape).spec);
      this.runtimes.set(key, runtime);
      if (this.runtimes.size > this.capacity) this.runtimes.delete(this.runtimes.keys().next().value!);
    }
    const view = new View(runtime, { renderer: 'none' });
    try {
      // Copies: vega writes into the tuples it is given (ids, stacked and derived fields).
      for (const [name, rows] of datasets) {
        const copies = rows.map((row) => ({ ...row }));
        view.data(name, copies);
      }
      return labelSvg(await view.toSVG(), spec.description);
    } finally {
      view.finalize();
    }
  }
}

/**
 * A spec's shape (a copy without its description, and with every named inline data set emptied) and the
 * data it was emptied of, by name. The description is left out because vega does not draw it:
 * `labelSvg` writes it into each SVG.
 */
export function splitData(spec: TopLevelSpec): { shape: TopLevelSpec; datasets: Map<string, Datum[]> } {
  const datasets = new Map<string, Datum[]>();
  const strip = (node: unknown, key: string): unknown => {
    if (Array.isArray(node)) return node.map((item) => strip(item, ''));
    if (node === null || typeof node !== 'object') return node;
    const record = node as Record<string, unknown>;
    if (key === 'data' && typeof record.name === 'string' && Array.isArray(record.values)) {
      if (datasets.has(record.name)) throw new Error(`two data sets are named ${record.name}`);
      datasets.set(record.name, record.values as Datum[]);
      return { ...record, values: [] };
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, strip(v, k)]));
  };
  const { description: _, ...rest } = spec;
  return { shape: strip(rest, '') as TopLevelSpec, datasets };
}

/**
 * The chart as an image for assistive technology: `role="img"`, the spec's description as `aria-label`
 * and as the SVG's `<title>` (which browsers also show on hover). Vega emits neither for a headless render.
 */
function labelSvg(svg: string, description: string | undefined): string {
  if (!svg.startsWith('<svg ')) throw new Error('vega did not return an SVG document');
  const open = svg.indexOf('>');
  const text = escapeHtml(description ?? 'chart');
  const attributes = svg.slice('<svg '.length, open);
  return `<svg role="img" aria-label="${text}" ${attributes}><title>${text}</title>${svg.slice(open + 1)}`;
}
