/**
 * A ViT sweep end to end (docs/attribution.md, "Token neurons"): `pure run` on the embedded default
 * with the tiny torchvision ViT fixture, `--layers auto`, a few hundred CIFAR images, k = 10, up to the
 * crops; the Parquet outputs read back with DuckDB.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { fixtureModel, projectRoot, sharedDataset } from '../support/paths.js';

const EMBEDDING = '/encoder/Add_output_0';
const BLOCKS = [
  '/encoder/layers/encoder_layer_0/Add_1_output_0',
  '/encoder/layers/encoder_layer_1/Add_1_output_0',
];
const FEATURES = 32;
const K = 10;

/** `pure run` on the fixture, `--layers auto` up to the crops, in `dir`; its stdout. */
async function sweep(dir: string, limit: number, k: number, ...extra: string[]): Promise<string> {
  const { TEMPORAL_ADDRESS: _unused, ...env } = process.env;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(projectRoot, 'dist', 'cli', 'main.js'),
      'run',
      '--model',
      fixtureModel('vit-tiny-cifar10.onnx'),
      '--data',
      sharedDataset('cifar10-test'),
      '--layers',
      'auto',
      '--limit',
      String(limit),
      '-k',
      String(k),
      '--until',
      'crops',
      '--out',
      join(dir, 'out'),
      '--state-dir',
      join(dir, 'state'),
      ...extra,
    ],
    { env, timeout: 120_000 },
  );
  return stdout;
}

test('pure run --layers auto on the tiny ViT: token neurons, circuits over tokens, patch crops', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure-vit-run-'));
  try {
    const stdout = await sweep(dir, 300, K);
    assert.match(stdout, /Done: 300 images, 3 layers, 0 images skipped/);
    for (const block of BLOCKS) assert.ok(stdout.includes(`${block}: `), `summary line of ${block}`);
    const [run] = await readdir(join(dir, 'out'));
    const db = await openDuckDB();
    await createRunViews(db, join(dir, 'out', run!));
    const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRows().map((r) => r.map(Number));
    const layerRows = async (sql: string) =>
      (await db.runAndReadAll(sql)).getRows().map((r) => r.map(String));

    // ActMax: every feature of the embedding and both blocks has k references; positions are tokens
    // (h = 0, w = token index < 17), values the max over tokens.
    assert.deepEqual(
      await layerRows(
        'SELECT layer, count(DISTINCT neuron), count(*), max(h), min(w) >= 0 AND max(w) < 17 FROM refs GROUP BY layer ORDER BY layer',
      ),
      [EMBEDDING, ...BLOCKS].map((layer) => [layer, String(FEATURES), String(FEATURES * K), '0', 'true']),
    );
    // Circuits: one vector of the 32 lower features per (block neuron, reference), sum |R| = 1.
    assert.deepEqual(
      await layerRows(
        'SELECT layer, lower_layer, count(*), min(len(relevance)), max(len(relevance)) FROM relevance GROUP BY ALL ORDER BY layer',
      ),
      BLOCKS.map((layer, i) => [
        layer,
        i === 0 ? EMBEDDING : BLOCKS[0]!,
        String(FEATURES * K),
        String(FEATURES),
        String(FEATURES),
      ]),
    );
    const [[worst, zero]] = (await rows(
      `SELECT max(abs(list_sum(list_transform(relevance, x -> abs(x))) - 1)),
              count(*) FILTER (WHERE list_sum(list_transform(relevance, x -> abs(x))) = 0) FROM relevance`,
    )) as [[number, number]];
    assert.ok(worst < 1e-5 && zero === 0, `sum |R| - 1 up to ${worst}; ${zero} zero vectors`);
    // Virtual neurons for every block neuron; the Activation baseline has one 32-feature row per image.
    assert.deepEqual(await rows('SELECT count(*), count(DISTINCT layer) FROM neurons'), [[2 * FEATURES, 2]]);
    assert.deepEqual(await rows('SELECT min(len(features)), max(len(features)) FROM activations'), [
      [FEATURES, FEATURES],
    ]);
    // Crops: each reference's arg-max token patch (8 x 8 on the 4 x 4 grid) or, for the class token,
    // the whole image; joined to the references' token.
    const [[crops, onPatch, wholeForClass]] = (await rows(
      `SELECT count(*),
              count(*) FILTER (WHERE r.w > 0 AND c.x1 - c.x0 = 8 AND c.y1 - c.y0 = 8
                               AND c.x0 = 8 * ((r.w - 1) % 4) AND c.y0 = 8 * ((r.w - 1) // 4)),
              count(*) FILTER (WHERE r.w = 0 AND c.x1 - c.x0 = 32 AND c.cropped = 0)
       FROM crops c JOIN refs r USING (layer, neuron, rank)`,
    )) as [[number, number, number]];
    assert.equal(crops, 2 * FEATURES * K);
    // A patch without visible heat falls back to the whole image (as the authors'); allow a few.
    assert.ok(
      onPatch + wholeForClass >= 0.95 * crops,
      `${onPatch} patch crops, ${wholeForClass} class-token crops`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--tokens patches: no reference, crop or seed on the class token; the option is in config.json', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure-vit-patches-'));
  try {
    const stdout = await sweep(dir, 100, 5, '--tokens', 'patches');
    assert.match(stdout, /Done: 100 images, 3 layers, 0 images skipped/);
    const [run] = await readdir(join(dir, 'out'));
    const config = JSON.parse(await readFile(join(dir, 'out', run!, 'config.json'), 'utf8'));
    assert.equal(config.tokens, 'patches');
    const db = await openDuckDB();
    await createRunViews(db, join(dir, 'out', run!));
    const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRows().map((r) => r.map(Number));
    // Every reference of every layer is on a patch token (1..16), every crop its 8 x 8 patch or, without
    // visible heat there, the whole image; every circuit vector is non-zero (a seed on patches only).
    assert.deepEqual(await rows('SELECT count(*), min(w), max(w) FROM refs'), [[3 * FEATURES * 5, 1, 16]]);
    const [[crops, onPatch]] = (await rows(
      `SELECT count(*),
              count(*) FILTER (WHERE c.x1 - c.x0 = 8 AND c.x0 = 8 * ((r.w - 1) % 4) AND c.y0 = 8 * ((r.w - 1) // 4))
       FROM crops c JOIN refs r USING (layer, neuron, rank)`,
    )) as [[number, number]];
    assert.equal(crops, 2 * FEATURES * 5);
    assert.ok(onPatch >= 0.95 * crops, `${onPatch} of ${crops} crops on their patch`);
    assert.deepEqual(
      await rows(
        'SELECT count(*) FILTER (WHERE list_sum(list_transform(relevance, x -> abs(x))) = 0) FROM relevance',
      ),
      [[0]],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
