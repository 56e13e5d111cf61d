#!/usr/bin/env node
import { resolve } from 'node:path';
import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import { Command, InvalidArgumentError } from 'commander';
import { layersCommand } from './layers.js';
import { runCommand } from './run.js';
import { workerCommand } from './worker.js';

function positiveInt(name: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

// Worker lifecycle chatter is noise on a terminal; PURE_LOG_LEVEL=INFO or DEBUG brings it back. The inference
// worker deliberately runs no workflows, so the SDK's warning about that is dropped.
Runtime.install({
  logger: new DefaultLogger((process.env.PURE_LOG_LEVEL ?? 'WARN') as LogLevel, (entry) => {
    if (entry.message.startsWith('No workflows registered')) return;
    process.stderr.write(
      `[temporal] ${entry.level} ${entry.message}${entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''}\n`,
    );
  }),
});

const program = new Command()
  .name('pure')
  .description('Find polysemantic neurons in image models and split them into pure virtual neurons (PURE).')
  .showHelpAfterError();

program
  .command('run')
  .description('Run a sweep: ActMax references for every neuron of the given layers.')
  .requiredOption('--model <uri>', 'ONNX model: path or s3://bucket/key')
  .requiredOption('--data <uri>', 'images: folder or s3:// prefix, flat or in class sub-folders')
  .requiredOption('--layers <names>', 'comma-separated tensor names, lower layer first (see `pure layers`)')
  .option('--out <uri>', 'output root: folder or s3:// prefix', 'out')
  .option('--run <id>', 'run id (default: model name + hash of the options, so a re-run resumes)')
  .option('-k, --k <n>', 'references per neuron', positiveInt('k'), 100)
  .option('--batch-size <n>', 'images per onnxruntime call', positiveInt('batch size'), 64)
  .option('--shard-size <n>', 'images per references activity', positiveInt('shard size'), 1000)
  .option('--window <n>', 'activities in flight per stage', positiveInt('window'), 4)
  .option(
    '--limit <n>',
    'use only n images, evenly spaced over the dataset (0 = all)',
    positiveInt('limit', 0),
    0,
  )
  .option('--preprocess <spec>', 'cifar10 | imagenet | JSON spec (default: from the model input size)')
  .option(
    '--temporal <address>',
    'Temporal frontend host:port (default: $TEMPORAL_ADDRESS, else an embedded dev server)',
  )
  .option('--namespace <ns>', 'Temporal namespace', process.env.TEMPORAL_NAMESPACE ?? 'default')
  .option('--no-worker', 'do not run an in-process worker (workers run elsewhere)')
  .option('--threads <n>', 'onnxruntime threads per session', positiveInt('threads'))
  .option('--state-dir <dir>', 'where the embedded Temporal server keeps its state', '.pure')
  .action(async (opts) => {
    const result = await runCommand({
      ...opts,
      temporal: opts.temporal ?? process.env.TEMPORAL_ADDRESS,
      stateDir: resolve(opts.stateDir),
    });
    process.stdout.write(
      `\nDone: ${result.numSamples} images, ${result.layers.length} layers, ${result.skipped} skipped` +
        ` (${result.shardsComputed} shards computed, ${result.shardsReused} reused).\n` +
        `Outputs under ${result.runUri}/\n` +
        result.references.map((r) => `  references  ${result.runUri}/${r.key}\n`).join('') +
        `Query: duckdb -c "SELECT layer, neuron, rank, sample_id, value FROM read_parquet('${result.runUri}/references/*/*.parquet') LIMIT 10"\n`,
    );
  });

program
  .command('worker')
  .description('Run a worker that serves the inference and/or CPU task queues of a Temporal server.')
  .option('--queues <list>', 'inference, cpu, or both', 'inference,cpu')
  .option(
    '--temporal <address>',
    'Temporal frontend host:port',
    process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  )
  .option('--namespace <ns>', 'Temporal namespace', process.env.TEMPORAL_NAMESPACE ?? 'default')
  .option('--threads <n>', 'onnxruntime threads per session', positiveInt('threads'))
  .action(workerCommand);

program
  .command('layers')
  .description('List candidate layers of an ONNX model with their shapes.')
  .argument('<model>', 'ONNX model path or s3:// URI')
  .option('--all', 'list every 4-D activation, not only block outputs')
  .action(layersCommand);

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`pure: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
