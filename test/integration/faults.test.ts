import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { S3Store } from '../../core/adapters/storage/s3.js';
import { CONFIG_DEFAULTS } from '../../core/compute/run/config.js';
import { layerTablesOf } from '../../core/compute/run/layout.js';
import { attemptsWithin } from '../../workflows/activity-options.js';
import { BlackholeProxy, PrivateMinio, PrivateTemporal, PureProcess } from '../support/fault-services.js';
import { sharedDataset, sharedModel } from '../support/paths.js';

/**
 * Fault tests on real services, `pure run` driven as a user drives it: a sweep rides out a 3-minute S3
 * outage and a Temporal restart by itself, and a silent S3 endpoint (accepts connections, never answers)
 * fails it, clearly and in bounded time (workflows/activity-options.ts, activities/failures.ts,
 * activities/io.ts, core/adapters/storage/s3.ts). Every service here is private: free ports, its own
 * state folder, its own process group; the shared servers scripts/test.sh starts for the other tests are
 * never touched. A worker killed with kill -9 mid-sweep is covered by test/integration/resume.test.ts.
 *
 * The scenarios run concurrently, so the file takes about as long as the longest, the S3 outage (about
 * 5 minutes on 2 cores). Each has its own Temporal server, or its own run id and task queues on a shared
 * one: the same command gives the same run id, hence the same workflow id, and `pure run`'s in-process
 * workers would otherwise serve each other's activities.
 */

const cli = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const BUCKET = 'pure-faults';
const SWEEP = [
  ...['--model', sharedModel('resnet20-cifar10.onnx'), '--data', sharedDataset('cifar10-test')],
  ...['--layers', 'auto', '--limit', '1000', '-k', '20', '--shard-size', '100'],
];
/**
 * Every table the sweep writes: the run's own and its stages' per-layer ones (without --evaluator, steps
 * 4-5 write none).
 */
const TABLES = ['samples', 'references', 'skipped', ...layerTablesOf({ until: CONFIG_DEFAULTS.until })];
const OUTAGE_MS = 180_000;
/**
 * Longer than the Temporal client's own gRPC retries of a call (10 attempts, 1.7x backoff from 100 ms,
 * capped at 5 s, +-20 % jitter: ~20-24 s), so the outage reaches pure run, which must say so and wait;
 * at 20 s a loaded machine sometimes rode it out inside the client's retries and never said anything.
 */
const TEMPORAL_DOWN_MS = 35_000;
const TEST_SOCKET_TIMEOUT_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The environment a user's shell would give `pure`, minus any Temporal or S3 settings of this machine. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(TEMPORAL_|PURE_S3_|AWS_)/.test(name)),
  );
  return { ...env, ...extra };
}

async function waitFor(what: string, timeoutMs: number, condition: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds(timeoutMs)} waiting for ${what}`);
    await sleep(250);
  }
}

/** True once `store` holds a references shard part (the references stage is under way). */
async function hasShardPart(list: () => Promise<string[]>): Promise<boolean> {
  return (await list().catch(() => [])).some((k) => k.endsWith('.parquet'));
}

async function localKeys(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true })).map(String);
}

/** The pure.log lines of failed activity attempts, with their times. */
async function failedAttempts(stateDir: string): Promise<{ at: number; line: string }[]> {
  const log = await readFile(join(stateDir, 'pure.log'), 'utf8').catch(() => '');
  return log
    .split('\n')
    .filter((line) => line.includes('Activity failed'))
    .map((line) => ({ at: Date.parse(line.slice(0, line.indexOf(' '))), line }));
}

describe('faults on real services: S3 outage, Temporal restart, silent S3 endpoint', {
  concurrency: true,
}, () => {
  let root: string;
  const temporals: PrivateTemporal[] = [];
  const minios: PrivateMinio[] = [];
  const proxies: BlackholeProxy[] = [];
  const runs: PureProcess[] = [];
  let tA: PrivateTemporal;
  let tB: PrivateTemporal;
  let tC: PrivateTemporal;
  let minioA: PrivateMinio;
  let minioC: PrivateMinio;
  /** The undisturbed sweep, written to a local folder: the rows every disturbed run must reproduce. */
  let expectedRun: string;
  let runId: string;
  const savedSocketTimeout = process.env.PURE_S3_SOCKET_TIMEOUT_MS;

  function pure(args: string[], env: NodeJS.ProcessEnv): PureProcess {
    const run = new PureProcess(cli, ['run', ...SWEEP, ...args], userEnv(env));
    runs.push(run);
    return run;
  }

  before(
    async () => {
      // The direct S3Store check must see the built-in default socket timeout.
      delete process.env.PURE_S3_SOCKET_TIMEOUT_MS;
      root = await mkdtemp(join(tmpdir(), 'pure-faults-'));
      const temporal = (name: string) =>
        PrivateTemporal.start(join(root, name)).then((server) => {
          temporals.push(server);
          return server;
        });
      const minio = (name: string) =>
        PrivateMinio.start(join(root, name), BUCKET).then((server) => {
          minios.push(server);
          return server;
        });
      // allSettled: `after` must know every server that started, also when another one failed to.
      const started = await Promise.allSettled([
        temporal('temporal-a'),
        temporal('temporal-b'),
        temporal('temporal-c'),
        minio('minio-a'),
        minio('minio-c'),
      ]);
      const value = <T>(r: PromiseSettledResult<T>): T => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      };
      tA = value(started[0]);
      tB = value(started[1]);
      tC = value(started[2]);
      minioA = value(started[3]);
      minioC = value(started[4]);
      const undisturbed = pure(
        [
          '--temporal',
          tA.address,
          '--out',
          join(root, 'expected'),
          '--state-dir',
          join(root, 'state-expected'),
        ],
        {},
      );
      const done = await undisturbed.exited;
      assert.equal(done.code, 0, `the undisturbed run failed:\n${done.stderr}`);
      assert.match(
        done.stdout,
        /Done: 1000 images, 3 layers, 0 images skipped \(10 shards computed, 0 reused\)/,
      );
      const ids = await readdir(join(root, 'expected'));
      assert.equal(ids.length, 1);
      runId = ids[0]!;
      expectedRun = join(root, 'expected', runId);
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await Promise.allSettled(runs.map((r) => r.kill()));
    await Promise.allSettled(proxies.map((p) => p.close()));
    await Promise.allSettled([...temporals, ...minios].map((s) => s.stop('SIGTERM')));
    if (root) await rm(root, { recursive: true, force: true });
    if (savedSocketTimeout !== undefined) process.env.PURE_S3_SOCKET_TIMEOUT_MS = savedSocketTimeout;
  });

  /** Every table of `actualRun` has exactly the rows (a multiset, both ways) and columns of the undisturbed run. */
  async function assertSameRows(actualRun: string, s3?: PrivateMinio): Promise<string> {
    const previous = { ...process.env };
    // createRunViews opens the run's store from the environment, as `pure query` does.
    if (s3) {
      Object.assign(process.env, {
        PURE_S3_ENDPOINT: s3.endpoint,
        PURE_S3_REGION: PrivateMinio.region,
        PURE_S3_ACCESS_KEY: PrivateMinio.accessKeyId,
        PURE_S3_SECRET_KEY: PrivateMinio.secretAccessKey,
      });
    }
    const db = await openDuckDB(
      s3
        ? {
            endpoint: s3.endpoint,
            region: PrivateMinio.region,
            accessKeyId: PrivateMinio.accessKeyId,
            secretAccessKey: PrivateMinio.secretAccessKey,
          }
        : undefined,
    );
    try {
      const expectedViews = await createRunViews(db, expectedRun);
      for (const table of TABLES) {
        await db.run(`CREATE TABLE "expected_${table}" AS SELECT * FROM "${table}"`);
      }
      const actualViews = await createRunViews(db, actualRun);
      assert.deepEqual(actualViews, expectedViews);
      assert.deepEqual(
        TABLES.filter((t) => !expectedViews.includes(t)),
        [],
        'the undisturbed run has every table',
      );
      const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRows();
      const counted: string[] = [];
      const count = async (sql: string) => Number((await rows(`SELECT count(*) FROM (${sql})`))[0]![0]);
      for (const table of TABLES) {
        assert.deepEqual(
          (await rows(`DESCRIBE "${table}"`)).map((r) => [r[0], r[1]]),
          (await rows(`DESCRIBE "expected_${table}"`)).map((r) => [r[0], r[1]]),
          `${table}: same columns`,
        );
        const expected = await count(`SELECT * FROM "expected_${table}"`);
        assert.equal(await count(`SELECT * FROM "${table}"`), expected, `${table}: row count`);
        counted.push(`${table} ${expected}`);
        assert.equal(
          await count(`SELECT * FROM "expected_${table}" EXCEPT ALL SELECT * FROM "${table}"`),
          0,
          `${table}: rows of the undisturbed run missing`,
        );
        assert.equal(
          await count(`SELECT * FROM "${table}" EXCEPT ALL SELECT * FROM "expected_${table}"`),
          0,
          `${table}: rows the undisturbed run does not have`,
        );
        if (table === 'samples') {
          const uris = await rows(
            `SELECT DISTINCT regexp_replace(sample_uri, '/[^/]*$', '') FROM "${table}"`,
          );
          assert.ok(
            uris.length > 0 && uris.every((r) => String(r[0]).startsWith(sharedDataset('cifar10-test'))),
            'sample_uri is the dataset path',
          );
        }
      }
      return counted.join(', ');
    } finally {
      db.closeSync();
      for (const name of Object.keys(process.env)) if (!(name in previous)) delete process.env[name];
      Object.assign(process.env, previous);
    }
  }

  test('(a) MinIO stopped for 3 minutes mid-sweep: the sweep finishes by itself, rows identical to an undisturbed run', {
    timeout: 480_000,
  }, async (t) => {
    const out = `s3://${BUCKET}/faults`;
    const stateDir = join(root, 'state-a');
    const run = pure(['--temporal', tA.address, '--out', out, '--state-dir', stateDir], minioA.env());
    const store = new S3Store(`${out}/${runId}`, minioA.options());
    await run.waitForStderr(/\[pure\] run /, 120_000);
    // Stop MinIO once the references stage has written its first shard part: mid-sweep, past the first
    // activity (the (c) test 'as the sweep starts' covers an outage that meets that one).
    await waitFor('the first references shard part', 120_000, async () => {
      if (!run.running) throw new Error(`the sweep ended before the outage began:\n${run.stderr}`);
      return hasShardPart(() => store.list('_work/references'));
    });
    assert.ok(run.running, `the sweep ended before the outage began:\n${run.stderr}`);
    const parts = (await store.list('_work/references')).filter((k) => k.endsWith('.parquet')).length;
    const stoppedAt = Date.now();
    await minioA.stop('SIGTERM');
    t.diagnostic(
      `MinIO stopped ${seconds(stoppedAt - run.startedAt)} into the sweep (${parts} of 30 shard parts written)`,
    );
    await waitFor(
      'the outage to end',
      OUTAGE_MS + 5000,
      () => !run.running || Date.now() - stoppedAt >= OUTAGE_MS,
    );
    assert.ok(run.running, `pure run ended during the outage:\n${run.stderr}`);
    await minioA.start();
    const restartedAt = Date.now();

    const done = await run.exited;
    t.diagnostic(
      `MinIO down ${seconds(restartedAt - stoppedAt)}; sweep done ${seconds(Date.now() - restartedAt)} after it came back; ` +
        `${(await failedAttempts(stateDir)).length} failed activity attempts logged`,
    );
    assert.equal(done.code, 0, `pure run failed:\n${done.stderr}`);
    assert.match(done.stdout, /Done: 1000 images, 3 layers, 0 images skipped/);
    assert.match(done.stdout, new RegExp(`Outputs under ${out}/${runId}/`));
    const failures = await failedAttempts(stateDir);
    assert.ok(
      failures.some((f) => f.at >= stoppedAt && f.at <= restartedAt),
      'activity attempts failed during the outage (it hit the sweep)',
    );

    const compared = Date.now();
    const counts = await assertSameRows(`${out}/${runId}`, minioA);
    t.diagnostic(`rows identical (${counts}); compared in ${seconds(Date.now() - compared)}`);
  });

  test('(b) the Temporal server restarted mid-sweep: pure run waits for it and finishes', {
    timeout: 300_000,
  }, async (t) => {
    const out = join(root, 'out-b');
    const run = pure(['--temporal', tB.address, '--out', out, '--state-dir', join(root, 'state-b')], {});
    await run.waitForStderr(/\[pure\] run /, 120_000);
    const runSaid = Date.now();
    const work = join(out, runId, '_work', 'references');
    await waitFor(
      'the first references shard part, or 15 s',
      120_000,
      async () =>
        !run.running ||
        Date.now() - runSaid > 15_000 ||
        (await localKeys(work)).some((k) => k.endsWith('.parquet')),
    );
    assert.ok(run.running, `the sweep ended before Temporal was stopped:\n${run.stderr}`);
    const stoppedAt = Date.now();
    await tB.stop('SIGTERM');
    await sleep(Math.max(0, TEMPORAL_DOWN_MS - (Date.now() - stoppedAt)));
    await tB.start(); // same port, same --db-filename
    const restartedAt = Date.now();
    const done = await run.exited;
    t.diagnostic(
      `Temporal stopped ${seconds(stoppedAt - run.startedAt)} into the sweep, down ${seconds(restartedAt - stoppedAt)}; ` +
        `sweep done ${seconds(Date.now() - restartedAt)} after it came back`,
    );
    assert.equal(done.code, 0, `pure run failed:\n${done.stderr}`);
    assert.match(done.stdout, /Done: 1000 images, 3 layers, 0 images skipped/);
    assert.match(
      done.stderr,
      new RegExp(`\\[pure\\] lost Temporal at ${tB.address}; waiting for it to come back`),
    );
    assert.match(done.stderr, new RegExp(`\\[pure\\] Temporal is back; run ${runId} finished`));
    t.diagnostic(`rows identical to the undisturbed run (${await assertSameRows(join(out, runId))})`);
  });

  /**
   * A sweep whose S3 endpoint goes silent (accepts connections, never answers) `when` it reaches the
   * given point fails by itself, with the S3 operation and the timeout in its message, in bounded time,
   * after retrying through `--retry-window 1`. A socket timeout of 3 s keeps this short.
   */
  async function silentEndpoint(
    t: TestContext,
    name: string,
    silenceWhen: 'under way' | 'started',
  ): Promise<void> {
    const proxy = await BlackholeProxy.start({ host: '127.0.0.1', port: minioC.port });
    proxies.push(proxy);
    const stateDir = join(root, `state-${name}`);
    const out = `s3://${BUCKET}/${name}`;
    const run = pure(
      [
        ...['--temporal', tC.address, '--out', out, '--state-dir', stateDir, '--retry-window', '1'],
        // Its own run id and task queues: other scenarios use the same Temporal server.
        ...['--run', name, '--queue-prefix', name],
      ],
      { ...minioC.env(proxy.endpoint), PURE_S3_SOCKET_TIMEOUT_MS: String(TEST_SOCKET_TIMEOUT_MS) },
    );
    // The preflight goes through the proxy; then the endpoint goes silent, either at once (the first
    // activity, prepareSweep, meets it) or once the references stage has written a shard part.
    await run.waitForStderr(/\[pure\] run /, 120_000);
    if (silenceWhen === 'under way') {
      const store = new S3Store(`${out}/${name}`, minioC.options());
      await waitFor('the first references shard part', 120_000, async () => {
        if (!run.running) throw new Error(`the sweep ended before S3 went silent:\n${run.stderr}`);
        return hasShardPart(() => store.list('_work/references'));
      });
    }
    proxy.blackhole();
    const silentAt = Date.now();

    // Bound: `--retry-window 1` gives attemptsWithin(1) = 6 attempts with backoff 2 + 4 + 8 + 16 + 32 s
    // between them. An attempt fails its first S3 call within 2 SDK attempts x 3 s socket timeout plus
    // the SDK's short retry delay, after its own work before that call (inference of one shard): 25 s are
    // allowed per attempt on a loaded 2-core machine, and 30 s for the workflow to report the failure.
    const attempts = attemptsWithin(1);
    assert.equal(attempts, 6);
    const backoffMs = (2 + 4 + 8 + 16 + 32) * 1000;
    const boundMs = backoffMs + attempts * 25_000 + 30_000;

    const done = await run.exited;
    const failedAfter = Date.now() - silentAt;
    const failures = await failedAttempts(stateDir);
    const first = failures.find((f) => f.at >= silentAt);
    t.diagnostic(
      `S3 silent ${seconds(silentAt - run.startedAt)} into the sweep; it failed ${seconds(failedAfter)} later ` +
        `(bound ${seconds(boundMs)}); ${failures.length} failed attempts logged, the first ` +
        `${first ? seconds(first.at - silentAt) : '?'} after S3 went silent`,
    );
    const message = done.stderr.split('\n').find((l) => l.startsWith('pure: ')) ?? '';
    t.diagnostic(message);
    assert.equal(done.code, 1, `expected the sweep to fail:\n${done.stderr}`);
    assert.doesNotMatch(done.stdout, /Done:/);
    // The root cause (the SDK's timeout) comes first, then where it happened: the S3 call and its object.
    assert.match(message, /^pure: sweep failed: /, done.stderr);
    assert.match(
      message,
      new RegExp(
        'S3 (PutObject|GetObject|GetObject \\(range\\)|HeadObject|ListObjectsV2|multipart upload) ' +
          `s3://${BUCKET}/${name}/\\S+ at ${proxy.endpoint} failed: TimeoutError: `,
      ),
      `the failure names the S3 operation and the object:\n${done.stderr}`,
    );
    assert.match(message, new RegExp(`timed out after ${TEST_SOCKET_TIMEOUT_MS} ms`), 'and the timeout');
    assert.ok(first, `a failed attempt is logged in ${join(stateDir, 'pure.log')}`);
    assert.ok(
      first.at - silentAt <= 60_000,
      `the first attempt failed ${seconds(first.at - silentAt)} after S3 went silent`,
    );
    assert.ok(
      failures.length >= attempts,
      `${failures.length} failed attempts logged, expected >= ${attempts}: retried through the window`,
    );
    assert.ok(
      failedAfter >= backoffMs,
      `failed after ${seconds(failedAfter)}, before the retry window was used`,
    );
    assert.ok(
      failedAfter <= boundMs,
      `failed after ${seconds(failedAfter)}, over the bound ${seconds(boundMs)}`,
    );
  }

  test('(c) S3 goes silent mid-sweep: the sweep fails in bounded time, naming the operation and the timeout', {
    timeout: 360_000,
  }, async (t) => {
    await silentEndpoint(t, 'silent-mid-sweep', 'under way');
  });

  test('(c) S3 goes silent as the sweep starts: the first activity retries too', {
    timeout: 360_000,
  }, async (t) => {
    await silentEndpoint(t, 'silent-from-start', 'started');
  });

  test('(c) S3Store with the default timeouts gives up on a silent endpoint within 30-75 s', {
    timeout: 120_000,
  }, async (t) => {
    const proxy = await BlackholeProxy.start({ host: '127.0.0.1', port: minioC.port });
    proxies.push(proxy);
    proxy.blackhole();
    // Built-in defaults (the before hook unset PURE_S3_SOCKET_TIMEOUT_MS): a request that hears nothing for
    // 30 s is aborted (the SDK arms that timer 3 s after sending, so 33 s), and the SDK tries twice: about
    // 66 s, so an activity attempt stuck on S3 fails within about a minute, not after the 90 s stall check.
    const store = new S3Store(`s3://${BUCKET}/direct`, minioC.options(proxy.endpoint));
    const t0 = Date.now();
    const error = await store.get('never/answered.parquet').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const ms = Date.now() - t0;
    t.diagnostic(`get() failed after ${seconds(ms)}: ${error?.message}`);
    assert.ok(error, 'get() against a silent endpoint fails');
    assert.match(
      error.message,
      new RegExp(
        `^S3 GetObject s3://${BUCKET}/direct/never/answered\\.parquet at ${proxy.endpoint} failed: ` +
          'TimeoutError: .*timed out after 30000 ms',
      ),
    );
    assert.ok(ms >= 30_000 && ms <= 75_000, `failed after ${seconds(ms)}, expected 30-75 s`);
  });
});
