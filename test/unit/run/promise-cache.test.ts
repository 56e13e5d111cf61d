import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promiseCache } from '../../../activities/io.js';

test('promiseCache shares loads, forgets failures, and disposes the least recently used beyond its bound', async () => {
  const disposed: string[] = [];
  const cache = promiseCache<string>(2, (v) => {
    disposed.push(v);
  });
  let loads = 0;
  const load = (v: string) => async () => {
    loads++;
    return v;
  };
  assert.equal(await cache('a', load('A')), 'A');
  assert.equal(await cache('a', load('never')), 'A');
  assert.equal(loads, 1);
  await assert.rejects(cache('bad', () => Promise.reject(new Error('boom'))));
  assert.equal(await cache('bad', load('ok now')), 'ok now'); // the failure was forgotten
  await cache('a', load('never')); // a is now the most recent
  await cache('c', load('C')); // evicts 'bad', the least recently used
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(disposed, ['ok now']);
  assert.equal(await cache('a', load('never')), 'A');
});
