/**
 * Benchmark of the report's plots (report/charts/): the time to draw one candidate-count chart and one
 * circuit map of 100 points as SVG, with the reusable renderer (`ChartRenderer`, its shape parsed once
 * before timing) and with the one-shot `renderSvg`, and the time of one circuit map's coordinates
 * (`circuitMapCoordinates`, UMAP) for 100 circuit vectors of 64 and of 512 channels. Prints one line per
 * measurement: the median wall and CPU time and the fastest wall time over the runs, and each SVG's size.
 *
 *   npm run bench:charts [-- runs]
 *
 * Data are synthetic (seeded), with the shapes of a real neuron's: four curves over the counts 2..5, and
 * 100 reference samples in three virtual neurons. Each chart is drawn with fresh data every run (another
 * seed), as a report draws a new neuron on every page. Every measurement is warmed up first.
 */
import type { TopLevelSpec } from 'vega-lite';
import { createRandom, normal } from '../../core/compute/random.js';
import { ChartRenderer, renderSvg } from '../../report/charts/render.js';
import { type CandidatePoint, candidateCurve, circuitMap } from '../../report/charts/specs.js';
import { circuitMapCoordinates } from '../../report/charts/umap.js';

const runs = Number(process.argv[2] ?? 30);
if (!Number.isInteger(runs) || runs < 1) throw new Error('runs must be a positive integer');

function candidates(seed: number): TopLevelSpec {
  const random = createRandom(seed);
  const rows: CandidatePoint[] = [2, 3, 4, 5].flatMap((count) => [
    { count, series: 'silhouette PURE', panel: 'silhouette', value: random() },
    { count, series: 'silhouette Activation', panel: 'silhouette', value: random() },
    { count, series: 'evidence', value: 10 * random() },
    { count, series: 'P', value: random() },
  ]);
  return candidateCurve(rows, { chosen: 2 + (seed % 4), best: 2 + (seed % 3) });
}

function circuits(seed: number): TopLevelSpec {
  const random = createRandom(seed);
  return circuitMap(
    Array.from({ length: 100 }, (_, i) => ({
      x: normal(random) + (i % 3) * 4,
      y: normal(random),
      virtualNeuron: i % 3,
      baselineCluster: i % 2,
      rank: i + 1,
      label: `class ${i % 10}`,
    })),
  );
}

/** 100 vectors of `dims` channels in three blobs, as the circuits of a neuron with three virtual neurons. */
function vectors(seed: number, dims: number): Float32Array[] {
  const random = createRandom(seed);
  return Array.from({ length: 100 }, (_, i) =>
    Float32Array.from({ length: dims }, (_, d) => normal(random) + (d % 3 === i % 3 ? 2 : 0)),
  );
}

interface Timing {
  /** Median wall time of a call, ms. */
  median: number;
  /** Median CPU time of a call (user + system, all of the process's threads), ms. */
  cpu: number;
  fastest: number;
  last: unknown;
}

/**
 * Wall and CPU time of `runs` calls (after 3 untimed ones), in ms, and the last call's result. On a
 * shared machine the CPU time is the steadier figure: it leaves out the time spent waiting for a core.
 */
async function time(what: (run: number) => unknown): Promise<Timing> {
  for (let run = 0; run < 3; run++) await what(-1 - run);
  const walls: number[] = [];
  const cpus: number[] = [];
  let last: unknown;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    last = await what(run);
    const cpu = process.cpuUsage(cpuStart);
    walls.push(performance.now() - start);
    cpus.push((cpu.user + cpu.system) / 1000);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { median: median(walls), cpu: median(cpus), fastest: walls[0]!, last };
}

function report(what: string, { median, cpu, fastest, last }: Timing) {
  const ms = (value: number) => `${value.toFixed(1).padStart(6)} ms`;
  const size = typeof last === 'string' ? `  SVG ${(last.length / 1024).toFixed(1)} KiB` : '';
  console.log(`${what.padEnd(48)} median ${ms(median)}  cpu ${ms(cpu)}  fastest ${ms(fastest)}${size}`);
}

const renderer = new ChartRenderer();
report('candidateCurve SVG, reusable renderer', await time((run) => renderer.render(candidates(run))));
report('candidateCurve SVG, one-shot', await time((run) => renderSvg(candidates(run))));
report('circuitMap SVG (100 points), reusable renderer', await time((run) => renderer.render(circuits(run))));
report('circuitMap SVG (100 points), one-shot', await time((run) => renderSvg(circuits(run))));
for (const dims of [64, 512]) {
  const data = Array.from({ length: 4 }, (_, seed) => vectors(seed, dims));
  report(`UMAP, 100 x ${dims}`, await time((run) => circuitMapCoordinates(data[(run + 4) % 4]!, run)));
}
