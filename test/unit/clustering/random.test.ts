import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRandom, deriveSeed, normal } from '../../../core/compute/random.js';

describe('seeded randomness', () => {
  test('a seed gives one reproducible stream in [0, 1)', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const values = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      values,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.ok(values.every((v) => v >= 0 && v < 1));
    assert.notDeepEqual(values.slice(0, 5), Array.from({ length: 5 }, createRandom(43)));
  });

  test('derived seeds differ across streams and seeds', () => {
    const seeds = new Set<number>();
    for (let seed = 0; seed < 20; seed++)
      for (let stream = 0; stream < 20; stream++) seeds.add(deriveSeed(seed, stream));
    assert.equal(seeds.size, 400);
  });

  test('normal draws have mean 0 and variance 1', () => {
    const random = createRandom(7);
    const draws = Array.from({ length: 40000 }, () => normal(random));
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    const variance = draws.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws.length - 1);
    assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
  });

  test('seeds must be safe integers', () => {
    assert.throws(() => createRandom(1.5), /safe integer/);
  });
});
