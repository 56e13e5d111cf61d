/**
 * The tables as a pandas user reads them, with the command docs/outputs.md gives:
 * `pd.read_parquet('<run>/<table>', partitioning=None)` over the run's own layout (Hive-style `layer=`
 * folders, several parts; the manifests apart, under `_manifests/`). Plain `pd.read_parquet(dir)` would
 * also discover the `layer=` folders as a column and fail to merge it with the in-file `layer` column
 * (pyarrow 26); the docs say so. Needs pandas and pyarrow in .tools/venv
 * (`bash infra/tools.sh install readers`).
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { openStore } from '../../../core/adapters/storage/index.js';
import { writeJson, writeTable } from '../../../core/adapters/tables/io.js';
import { runKeys } from '../../../core/compute/run/layout.js';
import {
  type NeuronRow,
  neuronsSchema,
  type RelevanceRow,
  relevanceSchema,
} from '../../../core/compute/tables/schemas.js';
import { readersPython as python } from '../../support/paths.js';
import { monosemanticVerdict } from '../../support/rows.js';

const LAYERS = ['/layer2/layer2.2/Relu_1_output_0', '/fires.7/Concat_output_0'];

test('pandas reads every part of a Hive-partitioned table with the documented command', async () => {
  assert.ok(existsSync(python), `${python} is missing: run bash infra/tools.sh install readers`);
  const dir = await mkdtemp(join(tmpdir(), 'pure-pandas-'));
  try {
    const store = openStore(dir);
    const relevance: RelevanceRow[] = [];
    const neurons: NeuronRow[] = [];
    for (const [l, layer] of LAYERS.entries()) {
      for (const range of [
        { first: 0, end: 2 },
        { first: 2, end: 3 },
      ]) {
        const rows: RelevanceRow[] = [];
        const parts: NeuronRow[] = [];
        for (let neuron = range.first; neuron < range.end; neuron++) {
          for (let rank = 1; rank <= 4; rank++) {
            rows.push({
              layer,
              lowerLayer: `lower of ${layer}`,
              neuron,
              rank,
              sampleIndex: 100 * l + 10 * neuron + rank,
              sampleId: `cls/${neuron}-${rank}.jpg`,
              value: 10 - rank,
              relevance: Float32Array.from({ length: 3 + l }, (_, j) => (j + 1) / (neuron + rank)),
            });
          }
          parts.push({
            layer,
            lowerLayer: `lower of ${layer}`,
            neuron,
            nClusters: 1 + (neuron % 2),
            polysemanticity: neuron / 4,
            silhouettes: Float32Array.from([0.25, 0.5]),
            activationSilhouettes: Float32Array.from([0.125, 0.375]),
            references: 4,
            ...monosemanticVerdict(),
          });
        }
        await writeTable(store, runKeys.layerPart('relevance', layer, range), relevanceSchema, rows);
        await writeTable(store, runKeys.layerPart('neurons', layer, range), neuronsSchema, parts);
        relevance.push(...rows);
        neurons.push(...parts);
      }
      await writeJson(store, runKeys.layerManifest('relevance', layer), { parts: 2 });
    }
    const script = `
import json, math, sys
import pandas as pd
out = {}
for table in ('relevance', 'neurons'):
    df = pd.read_parquet(sys.argv[1] + '/' + table, partitioning=None)
    df = df.sort_values(['layer', 'neuron'] + (['rank'] if 'rank' in df else []), kind='stable')
    # pandas reads a float column's NULLs as NaN: back to null, as written.
    out[table] = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
                  for row in df.to_dict(orient='records')]
# numpy scalars and arrays as exact Python floats (float32 values print exactly as doubles).
print(json.dumps(out, default=lambda o: o.tolist()))
`;
    const { stdout } = await promisify(execFile)(python, ['-c', script, dir]);
    const read = JSON.parse(stdout) as Record<string, Record<string, unknown>[]>;
    const byKey = <T extends { layer: string; neuron: number; rank?: number }>(rows: T[]) =>
      [...rows].sort(
        (a, b) => a.layer.localeCompare(b.layer) || a.neuron - b.neuron || (a.rank ?? 0) - (b.rank ?? 0),
      );
    // The column names written independently of the schema code: camelCase -> snake_case.
    const snake = (row: object) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [
          k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
          v instanceof Float32Array ? [...v] : v,
        ]),
      );
    assert.deepEqual(read.relevance, byKey(relevance).map(snake));
    assert.deepEqual(read.neurons, byKey(neurons).map(snake));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
