import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Command } from 'commander';
import { CONFIG_FIELDS, RUN_ONLY_FIELDS } from '../../../cli/config-file.js';
import { buildProgram } from '../../../cli/program.js';
import type { RunOptions } from '../../../cli/run.js';
import type { ScheduleCreateOptions } from '../../../cli/schedule.js';
import { configureSweep } from '../../../core/stages/configure.js';
import { sharedDataset, sharedModel } from '../../support/paths.js';

/**
 * `--config f.yaml` against the same options as flags, through the real command definitions: the
 * options each command's action gets (and the SweepConfig the run stores) must be the same.
 */

const MODEL = sharedModel('resnet20-cifar10.onnx');
const DATA = sharedDataset('cifar10-test');

interface Parsed {
  run?: RunOptions;
  schedule?: { id: string; options: ScheduleCreateOptions };
  stderr: string;
}

/** Parses `pure <args>` with actions that only record their options; commander errors throw. */
async function parse(...args: string[]): Promise<Parsed> {
  const parsed: Parsed = { stderr: '' };
  const program = buildProgram({
    run: (options) => {
      parsed.run = options;
    },
    scheduleCreate: (id, options) => {
      parsed.schedule = { id, options };
    },
  });
  const quiet = (command: Command) => {
    command.exitOverride().configureOutput({
      writeErr: (s) => {
        parsed.stderr += s;
      },
      writeOut: () => undefined,
    });
    for (const sub of command.commands) quiet(sub);
  };
  quiet(program);
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => {
    parsed.stderr += s;
    return true;
  }) as typeof process.stderr.write;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stderr.write = write;
  }
  return parsed;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pure-config-options-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, text);
  return file;
}

/** Every option of `pure run` but --config, as flags, and the same as a config file. */
const FLAGS = () => [
  '--model',
  MODEL,
  '--data',
  DATA,
  '--layers',
  '/layer1/layer1.2/Relu_1_output_0,/layer2/layer2.2/Relu_1_output_0',
  '--out',
  join(dir, 'out'),
  '--run',
  'nightly',
  '-k',
  '10',
  '--until',
  'references',
  '--clusters',
  '2,3',
  '--seed',
  '3',
  '--limit',
  '200',
  '--tokens',
  'patches',
  '--preprocess',
  '{"resizeShortSide":36,"cropSize":32,"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25]}',
  '--batch-size',
  '8',
  '--shard-size',
  '100',
  '--neuron-batch',
  '4',
  '--window',
  '2',
  '--retry-window',
  '5',
  '--temporal',
  'temporal.example:7233',
  '--namespace',
  'ns',
  '--queue-prefix',
  'q',
  '--threads',
  '2',
  '--device',
  'cpu',
  '--no-worker',
  '--state-dir',
  join(dir, 'state'),
];
const YAML = () =>
  [
    `model: ${MODEL}`,
    `data: ${DATA}`,
    'layers:',
    '  - /layer1/layer1.2/Relu_1_output_0',
    '  - /layer2/layer2.2/Relu_1_output_0',
    'out: out                      # relative: against this file folder',
    'run: nightly',
    'k: 10',
    'until: references',
    'clusters: [2, 3]',
    'seed: 3',
    'limit: 200',
    'tokens: patches',
    'preprocess: {resizeShortSide: 36, cropSize: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}',
    'batchSize: 8',
    'shardSize: 100',
    'neuronBatch: 4',
    'window: 2',
    'retryWindow: 5',
    'temporal: temporal.example:7233',
    'namespace: ns',
    'queuePrefix: q',
    'threads: 2',
    'device: cpu',
    'worker: false',
    'stateDir: state',
  ].join('\n');

describe('--config against flags', () => {
  test('the config fields are exactly the options of pure run', () => {
    const run = buildProgram().commands.find((c) => c.name() === 'run')!;
    const options = run.options.map((o) => o.attributeName()).filter((name) => name !== 'config');
    assert.deepEqual(new Set(options), new Set(Object.keys(CONFIG_FIELDS)));
    const schedule = buildProgram()
      .commands.find((c) => c.name() === 'schedule')!
      .commands.find((c) => c.name() === 'create')!;
    const sweepOptions = schedule.options
      .map((o) => o.attributeName())
      .filter((name) => !['config', 'cron', 'paused', 'comparePrevious'].includes(name));
    assert.deepEqual(
      new Set(sweepOptions),
      new Set(
        Object.keys(CONFIG_FIELDS).filter((name) => !(RUN_ONLY_FIELDS as readonly string[]).includes(name)),
      ),
    );
  });

  test('a file with every option gives the options and the SweepConfig of the same flags', async () => {
    const file = await configFile('sweep.yaml', YAML());
    const fromFlags = (await parse('run', ...FLAGS())).run!;
    const fromFile = (await parse('run', '--config', file)).run!;
    assert.deepEqual(fromFile, fromFlags);
    assert.equal(fromFile.worker, false);
    const [a, b] = await Promise.all([configureSweep(fromFlags), configureSweep(fromFile)]);
    assert.deepEqual(b, a);
    assert.equal(b.runId, 'nightly');
    assert.equal(b.tokens, 'patches');
  });

  test('a minimal file equals the same few flags, defaults included (same default run id)', async () => {
    const file = await configFile(
      'minimal/sweep.yml',
      `model: ${MODEL}\ndata: ${DATA}\nlayers: auto\nk: 10\nlimit: 200\nuntil: references\n`,
    );
    const fromFlags = (
      await parse(
        'run',
        '--model',
        MODEL,
        '--data',
        DATA,
        '--layers',
        'auto',
        '-k',
        '10',
        '--limit',
        '200',
        '--until',
        'references',
      )
    ).run!;
    const fromFile = (await parse('run', '--config', file)).run!;
    assert.deepEqual(fromFile, fromFlags);
    const [a, b] = await Promise.all([configureSweep(fromFlags), configureSweep(fromFile)]);
    assert.deepEqual(b, a);
    assert.match(b.runId, /^resnet20-cifar10-[0-9a-f]{10}$/);
    assert.equal(b.layers.length, 3);
    // The default token positions are not stored: config.json and the run id are as before the option.
    assert.ok(!('tokens' in b));
  });

  test('a flag overrides the file, including a flag equal to the default', async () => {
    const file = await configFile('override.yaml', YAML());
    const run = (
      await parse('run', '--config', file, '-k', '100', '--clusters', '2,3,4', '--preprocess', 'cifar10')
    ).run!;
    assert.equal(run.k, 100); // the default's value, but given: the file's 10 does not apply
    assert.deepEqual(run.clusters, [2, 3, 4]);
    assert.equal(run.preprocess, 'cifar10');
    assert.equal(run.seed, 3); // from the file
    assert.equal(run.out, join(dir, 'out')); // the file's, against the file's folder
    assert.equal(run.stateDir, join(dir, 'state'));
  });

  test('required options may come from either; missing from both is the usual commander error', async () => {
    const file = await configFile('partial.yaml', `model: ${MODEL}\nlayers: auto\n`);
    const run = (await parse('run', '--config', file, '--data', DATA)).run!;
    assert.equal(run.data, DATA);
    await assert.rejects(parse('run', '--config', file), (error: Error) => {
      assert.equal(
        error.message,
        `error: required option '--data <uri>' not specified (nor data in ${file})`,
      );
      return true;
    });
    await assert.rejects(
      parse('run', '--model', MODEL, '--layers', 'auto'),
      /required option '--data <uri>' not specified$/,
    );
  });

  test('a bad file stops before the action, with its messages', async () => {
    const file = await configFile('bad.yaml', 'model: m.onnx\nk: 0\n');
    await assert.rejects(parse('run', '--config', file), {
      message: `${file}: k: expected an integer >= 1, got 0 (line 2)`,
    });
    await assert.rejects(
      parse('run', '--config', join(dir, 'missing.yaml')),
      /--config \S+missing\.yaml: cannot read it \(ENOENT/,
    );
  });

  test('schedule create takes the same file; the fields of pure run alone are left out, and named', async () => {
    const file = await configFile('sweep.yaml', YAML());
    const fromFile = await parse('schedule', 'create', 'nightly', '--cron', '0 2 * * *', '--config', file);
    const fromFlags = await parse(
      'schedule',
      'create',
      'nightly',
      '--cron',
      '0 2 * * *',
      ...FLAGS().slice(0, FLAGS().indexOf('--threads')),
    );
    assert.deepEqual(fromFile.schedule, fromFlags.schedule);
    assert.equal(
      fromFile.stderr,
      `[pure] ${file}: threads, device, worker, stateDir only apply to pure run's own worker and server; schedule create ignores them\n`,
    );
  });
});
