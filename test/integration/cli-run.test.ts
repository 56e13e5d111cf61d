import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { projectRoot, readersPython, sharedDataset, sharedModel } from '../support/paths.js';

const LAYERS = [
  '/layer1/layer1.2/Relu_1_output_0',
  '/layer2/layer2.2/Relu_1_output_0',
  '/layer3/layer3.2/Relu_1_output_0',
];
const TABLES = ['samples', 'references', 'relevance', 'activations', 'clusters', 'neurons', 'skipped'];

/**
 * The README's main job as a user runs it: `pure run` with no TEMPORAL_ADDRESS starts its own Temporal
 * dev server and worker, finishes the sweep, prints the summary, and a second identical command resumes
 * the same run (here: finds everything done). In between, every table of the run is read with each
 * reader's one-liner from docs/outputs.md and compared with DuckDB's.
 */
test('pure run on the embedded default, then the same command again', async () => {
  assert.ok(
    existsSync(readersPython),
    `${readersPython} is missing: run bash infra/tools.sh install readers`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'pure-cli-run-'));
  const { TEMPORAL_ADDRESS: _unused, ...env } = process.env;
  const data = sharedDataset('cifar10-test');
  const pureRun = () =>
    promisify(execFile)(
      process.execPath,
      [
        join(projectRoot, 'dist', 'cli', 'main.js'),
        'run',
        '--model',
        sharedModel('resnet20-cifar10.onnx'),
        '--data',
        data,
        '--layers',
        'auto',
        '--limit',
        '200',
        '-k',
        '10',
        '--out',
        join(dir, 'out'),
        '--state-dir',
        join(dir, 'state'),
      ],
      { env, timeout: 240_000 },
    );
  try {
    const first = await pureRun();
    assert.match(first.stderr, /embedded dev server/);
    assert.match(
      first.stdout,
      /Done: 200 images, 3 layers, 0 images skipped \(1 shards computed, 0 reused\)/,
    );
    assert.match(first.stdout, /\/layer3\/layer3\.2\/Relu_1_output_0: \d+ of 64 neurons split/);
    assert.match(first.stdout, /Report: npx pure report \S+resnet20-cifar10-[0-9a-f]{10}/);
    // Without --evaluator the sweep ends after the virtual neurons (step 3), and the summary says so.
    assert.match(first.stdout, /clusters\/ {2}neurons\/\n/);
    assert.doesNotMatch(first.stdout, /Evaluation at|crops\/|embeddings\//);
    const runs = await readdir(join(dir, 'out'));
    assert.equal(runs.length, 1);
    assert.match(runs[0]!, /^resnet20-cifar10-[0-9a-f]{10}$/);
    const run = join(dir, 'out', runs[0]!);

    const db = await openDuckDB();
    await createRunViews(db, run);
    const counts = (
      await db.runAndReadAll('SELECT (SELECT count(*) FROM refs), (SELECT count(*) FROM neurons)')
    ).getRows()[0]!;
    assert.deepEqual(counts.map(Number), [(16 + 32 + 64) * 10, 32 + 64]);
    for (const table of ['crops', 'embeddings', 'evaluation', 'virtual_neurons']) {
      assert.ok(!existsSync(join(run, table)), `${table}/ is written only with --evaluator`);
    }

    await assertManifestsApart(run);
    await assertReadersAgree(db, run, data);

    const second = await pureRun();
    assert.match(second.stdout, /\(0 shards computed, 1 reused\)/);
    assert.deepEqual(await readdir(join(dir, 'out')), runs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The completion manifests are under `_manifests/`; table folders hold nothing but Parquet. */
async function assertManifestsApart(run: string): Promise<void> {
  const manifests = (await readdir(join(run, '_manifests'), { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => relative(join(run, '_manifests'), join(e.parentPath, e.name)))
    .sort();
  const escaped = (layer: string) => encodeURIComponent(layer);
  assert.deepEqual(
    manifests,
    [
      'references.json',
      ...['activations', 'clusters', 'neurons', 'relevance'].flatMap((table) =>
        LAYERS.slice(1).map((layer) => `${table}/layer=${escaped(layer)}.json`),
      ),
    ].sort(),
  );
  for (const table of TABLES) {
    const files = await readdir(join(run, table), { recursive: true, withFileTypes: true });
    const other = files.filter((e) => e.isFile() && !e.name.endsWith('.parquet')).map((e) => e.name);
    assert.deepEqual(other, [], `${table}/ holds files that are not Parquet`);
  }
}

/** A table as columns of JSON values: nulls as null, non-finite floats as 'NaN', 'Infinity', '-Infinity'. */
type Columns = Record<string, unknown[]>;

/**
 * The readers' one-liners of docs/outputs.md, verbatim, on each table folder; one Python process for all.
 * Values are converted to plain JSON the way DuckDB's getRowObjectsJson does, so that they compare exactly
 * (float32 values are exact as doubles).
 */
const READERS_SCRIPT = `
import json, math, sys
import pandas as pd
import polars as pl

def plain(v, nan_is_missing):
    if hasattr(v, 'tolist'):
        v = v.tolist()  # numpy scalars and arrays
    if isinstance(v, list):
        return [plain(x, False) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        if math.isnan(v):
            return None if nan_is_missing else 'NaN'
        return 'Infinity' if v > 0 else '-Infinity'
    return v

run = sys.argv[1]
out = {}
for table in sys.argv[2:]:
    path = run + '/' + table
    df = pd.read_parquet(path, partitioning=None)
    # pandas 3 marks a missing string with NaN; in a float column NaN is a value.
    pandas = {c: [plain(v, not pd.api.types.is_float_dtype(df[c].dtype)) for v in df[c]] for c in df.columns}
    df = pl.read_parquet(path)
    polars = {c: [plain(v, False) for v in df[c].to_list()] for c in df.columns}
    out[table] = {'pandas': pandas, 'polars': polars}
print(json.dumps(out))
`;

/**
 * Every table read with pandas and polars (docs/outputs.md's one-liners) has DuckDB's columns, row count,
 * `layer` values and rows (compared as sorted rows, so part order does not matter); `layer` holds the
 * unescaped tensor names and `sample_uri` the plain absolute path of each image.
 */
async function assertReadersAgree(db: DuckDBConnection, run: string, data: string): Promise<void> {
  const { stdout } = await promisify(execFile)(readersPython, ['-c', READERS_SCRIPT, run, ...TABLES], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const read = JSON.parse(stdout) as Record<string, Record<string, Columns>>;
  for (const table of TABLES) {
    // docs/outputs.md: read_parquet('<run>/<table>/*/*.parquet'); samples is not partitioned.
    const glob = table === 'samples' ? 'samples/*.parquet' : `${table}/*/*.parquet`;
    const result = await db.runAndReadAll(`SELECT * FROM read_parquet('${run}/${glob}')`);
    const names = result.columnNames();
    const objects = result.getRowObjectsJson();
    const duck: Columns = Object.fromEntries(names.map((c) => [c, objects.map((row) => row[c])]));
    if (table === 'samples' || table === 'references') {
      assert.ok(duck.sample_uri!.length > 0, table);
      duck.sample_uri!.forEach((uri, i) => {
        assert.equal(uri, join(data, String(duck.sample_id![i])), `${table}.sample_uri`);
      });
    }
    if (duck.layer) {
      const expected = table === 'references' ? LAYERS : LAYERS.slice(1);
      assert.deepEqual([...new Set(duck.layer)].sort(), expected, `${table}.layer (DuckDB)`);
    }
    for (const [reader, columns] of Object.entries(read[table]!)) {
      const what = `${reader} on ${table}`;
      assert.deepEqual(Object.keys(columns), names, `${what}: columns`);
      assert.equal(columns[names[0]!]!.length, objects.length, `${what}: rows`);
      if (duck.layer) {
        assert.deepEqual([...columns.layer!].sort(), [...duck.layer].sort(), `${what}: layer values`);
      }
      // pandas reads a float column's NULLs as NaN (it has no null of its own there): compare them so.
      const expected = reader === 'pandas' ? nullFloatsAsNaN(duck, columns) : duck;
      assert.deepEqual(sortedRows(columns, names), sortedRows(expected, names), `${what}: rows`);
    }
  }
}

/** DuckDB's columns with NULL as 'NaN' in the columns where the reader has a NaN (pandas' float columns). */
function nullFloatsAsNaN(duck: Columns, reader: Columns): Columns {
  return Object.fromEntries(
    Object.entries(duck).map(([c, values]) => [
      c,
      reader[c]?.includes('NaN') ? values.map((v) => (v === null ? 'NaN' : v)) : values,
    ]),
  );
}

function sortedRows(columns: Columns, names: readonly string[]): string[] {
  const n = columns[names[0]!]!.length;
  return Array.from({ length: n }, (_, i) => JSON.stringify(names.map((c) => columns[c]![i]))).sort();
}
