import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compareSummary } from '../../../cli/compare.js';
import { openDuckDB } from '../../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../../core/adapters/analytics/views.js';
import { openStore } from '../../../core/adapters/storage/index.js';
import { writeTable } from '../../../core/adapters/tables/io.js';
import { compareKeys } from '../../../core/compute/run/layout.js';
import {
  type CompareRow,
  type CompareVirtualNeuronRow,
  compareSchema,
  compareVirtualNeuronsSchema,
} from '../../../core/compute/tables/schemas.js';
import type { ComparisonResult } from '../../../core/stages/compare.js';
import { relativeReportPath, storedComparisons, writeComparePage } from '../../../report/compare-page.js';
import { escapeHtml } from '../../../report/html.js';

// Names with HTML special characters: the page must escape every one.
const LOWER = '/lower/<b>"conv"</b>';
const UPPER = "/upper/<script>alert('x')</script>";
const AGAINST = 'night of 1/2 <old>';

function row(layer: string, neuron: number, reasons: string, severity: number): CompareRow {
  const upper = layer === UPPER;
  return {
    runA: '/runs/a',
    runB: '/runs/b',
    layer,
    neuron,
    lowerLayer: upper ? LOWER : null,
    referenceJaccard: reasons.includes('references') ? 0.5 : 1,
    referenceOverlap: 1,
    valueRatio: 1,
    nClustersA: upper ? 2 : null,
    nClustersB: upper ? (reasons.includes('count') ? 1 : 2) : null,
    meanCircuitCosine: upper ? 0.9 : null,
    matchedSimilarity: upper ? 0.8 : null,
    changed: reasons === '' ? 0 : 1,
    reasons,
    severity,
  };
}

describe('the compare page and summary', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-compare-page-'));
    const store = openStore(dir);
    await writeTable(store, compareKeys.part('compare', AGAINST, LOWER), compareSchema, [
      row(LOWER, 0, '', 0),
      row(LOWER, 1, 'references', 5),
    ]);
    await writeTable(store, compareKeys.part('compare', AGAINST, UPPER), compareSchema, [
      row(UPPER, 0, 'count,circuits', 2),
      row(UPPER, 1, '', 0.5),
    ]);
    const pair = (clusterA: number | null, clusterB: number | null): CompareVirtualNeuronRow => ({
      runA: '/runs/a',
      runB: '/runs/b',
      layer: UPPER,
      neuron: 0,
      clusterA,
      clusterB,
      sizeA: clusterA === null ? null : 10,
      sizeB: clusterB === null ? null : 20,
      similarity: clusterA === null || clusterB === null ? null : 0.8,
      memberJaccard: null,
    });
    await writeTable(
      store,
      compareKeys.part('compare_virtual_neurons', AGAINST, UPPER),
      compareVirtualNeuronsSchema,
      [pair(0, 0), pair(1, null)],
    );
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('pure query sees the comparison as the compare views, partitioned by the run compared with', async () => {
    const db = await openDuckDB();
    const views = await createRunViews(db, dir);
    assert.deepEqual(views, ['compare', 'compare_virtual_neurons']);
    const rows = (await db.runAndReadAll('SELECT DISTINCT against FROM compare')).getRowObjectsJson();
    assert.deepEqual(rows, [{ against: AGAINST }]);
    db.closeSync();
    assert.deepEqual(await storedComparisons(openStore(dir)), [AGAINST]);
  });

  test('the page: per layer counts, changed neurons by severity, every name escaped', async () => {
    const page = await writeComparePage(dir, AGAINST);
    assert.equal(page.key, `report/compare-${encodeURIComponent(AGAINST).replace(/'/g, '%27')}.html`);
    const html = await readFile(page.location, 'utf8');
    assert.ok(!html.includes('<script>alert'), 'no markup from the data');
    assert.ok(html.includes(escapeHtml(UPPER)) && html.includes(escapeHtml(LOWER)));
    const changed = html.slice(html.indexOf('<h2>Changed neurons'));
    assert.ok(changed.indexOf('>references<') < changed.indexOf('>count,circuits<'), 'severity 5 before 2');
    assert.ok(changed.includes('0→0 0.80 · 1→–'), 'the matched and the unmatched virtual neuron');
    assert.ok(html.includes('<dt>changed neurons</dt><dd>2 of 4</dd>'));
    assert.match(html, /first layer: references only/);
    assert.ok(!/href="[^"]*neuron-/.test(html), 'no links: neither run has a report');
  });

  test('links between the page and each run’s report stay relative where they can', () => {
    assert.equal(relativeReportPath('/out/b', '/out/b'), '');
    assert.equal(relativeReportPath('/out/cmp', '/out/a b'), '../../a%20b/report/');
    assert.equal(relativeReportPath('s3://bkt/x/b', 's3://bkt/x/a'), '../../a/report/');
    assert.equal(relativeReportPath('s3://bkt/x/b', 's3://other/a'), null);
    assert.equal(relativeReportPath('/out/b', 's3://bkt/a'), null);
  });

  test('the summary: one line per layer with its reasons, notes, and where the outputs are', () => {
    const result: ComparisonResult = {
      runA: '/out/a',
      runB: '/out/b',
      against: 'a',
      outUri: '/out/b',
      images: { same: false, a: 100, b: 90, shared: 80 },
      layers: [
        {
          layer: 'l1',
          lowerLayer: null,
          neuronsA: 16,
          neuronsB: 16,
          compared: 16,
          changed: 0,
          byReason: { references: 0, values: 0, count: 0, circuits: 0 },
          note: 'first layer: references only',
        },
        {
          layer: 'layer2',
          lowerLayer: 'l1',
          neuronsA: 32,
          neuronsB: 32,
          compared: 32,
          changed: 3,
          byReason: { references: 0, values: 0, count: 1, circuits: 3 },
          note: null,
        },
      ],
      onlyInA: ['l3'],
      onlyInB: [],
    };
    const text = compareSummary(result, '/out/b/report/compare-a.html');
    assert.match(text, /images: 100 in A, 90 in B, 80 shared: references not compared/);
    assert.match(text, /^ {2}layer2 +32 +29 +3 +0 +0 +1 +3$/m);
    assert.match(text, /^ {2}l1 .*\(first layer: references only\)$/m);
    assert.match(text, /only in A \(not compared\): l3/);
    assert.match(text, /Page: {3}\/out\/b\/report\/compare-a\.html/);
  });
});
