/**
 * Dev-only (docs/clustering.md, "Calibration against embeddings"): how the split verdicts of finished
 * runs agree with their evaluation, for a grid of gates. Per neuron: the circuit-side statistics the
 * verdict may use (evidence, P at the best count) and the PURE split's coherence gain and p-value in
 * the encoder's space at that count.
 *
 *   node dist/test/dev/verdict-calibration.js <run> [<run> ...]
 */
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { CLEAR_GAIN, VERDICT_ALPHA } from '../../core/compute/evaluation/verdicts.js';

interface NeuronEvidence {
  layer: string;
  neuron: number;
  evidence: number;
  polysemanticity: number;
  gain: number;
  pValue: number;
}

async function readRun(run: string): Promise<NeuronEvidence[]> {
  const db = await openDuckDB();
  await createRunViews(db, run);
  const result = await db.runAndReadAll(
    `SELECT n.layer, n.neuron, n.evidence, n.polysemanticity, e.coherence_gain AS gain, e.p_value
     FROM neurons n JOIN evaluation e
       ON e.layer = n.layer AND e.neuron = n.neuron AND e.method = 'pure' AND e.n_clusters = n.best_count
     ORDER BY n.layer, n.neuron`,
  );
  return result.getRowObjectsJson().map((r) => ({
    layer: String(r.layer),
    neuron: Number(r.neuron),
    evidence: Number(r.evidence),
    polysemanticity: Number(r.polysemanticity),
    gain: Number(r.gain),
    pValue: Number(r.p_value),
  }));
}

const significant = (n: NeuronEvidence) => n.pValue < VERDICT_ALPHA;
const clear = (n: NeuronEvidence) => significant(n) && n.gain >= CLEAR_GAIN;

function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const order = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(v.length);
    order.forEach(([, i], k) => {
      r[i] = k;
    });
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const mean = (n - 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (ra[i]! - mean) * (rb[i]! - mean);
    va += (ra[i]! - mean) ** 2;
    vb += (rb[i]! - mean) ** 2;
  }
  return cov / Math.sqrt(va * vb);
}

function report(name: string, neurons: readonly NeuronEvidence[]): void {
  const gains = neurons.map((n) => n.gain);
  console.log(
    `\n${name}: ${neurons.length} neurons, ${neurons.filter(significant).length} significant, ${neurons.filter(clear).length} clear (gain >= ${CLEAR_GAIN}, p < ${VERDICT_ALPHA})`,
  );
  console.log(
    `  Spearman(P, gain) = ${spearman(
      neurons.map((n) => n.polysemanticity),
      gains,
    ).toFixed(3)}, Spearman(evidence, gain) = ${spearman(
      neurons.map((n) => Math.min(n.evidence, 1e6)),
      gains,
    ).toFixed(3)}`,
  );
  console.log('  evidence >=  P >=   split  confirmed  clear kept whole');
  for (const e of [0, 2, 3, 4]) {
    for (const p of [0, 0.1, 0.2, 0.3, 0.4, 0.5]) {
      const split = neurons.filter((n) => n.evidence >= e && n.polysemanticity >= p);
      const whole = neurons.filter((n) => !(n.evidence >= e && n.polysemanticity >= p));
      console.log(
        `  ${String(e).padStart(10)} ${p.toFixed(1).padStart(5)} ${String(split.length).padStart(7)} ${String(split.filter(significant).length).padStart(10)} ${String(whole.filter(clear).length).padStart(17)}`,
      );
    }
  }
}

const runs = process.argv.slice(2);
const all: NeuronEvidence[] = [];
for (const run of runs) {
  const neurons = await readRun(run);
  for (const layer of [...new Set(neurons.map((n) => n.layer))])
    report(
      `${run} ${layer}`,
      neurons.filter((n) => n.layer === layer),
    );
  all.push(...neurons);
}
if (runs.length > 1) report('all runs', all);
