import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activityOptions, attemptsWithin } from '../../../workflows/activity-options.js';

test('the retry policy rides out the outage window with capped exponential backoff', () => {
  // Backoff 2, 4, 8, 16, 32 s, then 60 s each: summed independently of the implementation.
  const covered = (attempts: number) => {
    let total = 0;
    for (let i = 0; i < attempts - 1; i++) total += Math.min(60, 2 * 2 ** i);
    return total;
  };
  for (const minutes of [1, 5, 15, 60]) {
    const attempts = attemptsWithin(minutes);
    assert.ok(covered(attempts) >= minutes * 60, `${attempts} attempts cover ${minutes} min`);
    assert.ok(covered(attempts - 1) < minutes * 60, `${attempts - 1} attempts would not`);
  }
  assert.equal(attemptsWithin(15), 20);
  const options = activityOptions('q', '1 hour');
  assert.deepEqual(options.retry, {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '60 seconds',
    maximumAttempts: 20,
  });
  assert.equal(activityOptions('q', '1 hour', 1).retry?.maximumAttempts, 6);
});
