import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEVICES, type Device } from '../core/adapters/onnxruntime/session.js';
import {
  defaultNamespace,
  LOCAL_TEMPORAL_ADDRESS,
  temporalAddress,
} from '../core/adapters/settings/temporal.js';
import { ASSIGN_DEFAULTS } from '../core/compute/assign/config.js';
import { COMPOSITES } from '../core/compute/attribution/lrp.js';
import { TOKEN_POSITIONS, type TokenPositions } from '../core/compute/onnx/feature-layout.js';
import { CONFIG_DEFAULTS, runsStage, SWEEP_STAGES, type SweepStage } from '../core/compute/run/config.js';
import { DEFAULT_QUEUE_PREFIX, QUEUE_ROLES, sweepWorkflowId } from '../core/compute/run/temporal-names.js';
import { type AssignOptions, assignCommand } from './assign.js';
import { cancelCommand } from './cancel.js';
import { compareCommand } from './compare.js';
import { type ConfigValues, mergeConfig, RUN_ONLY_FIELDS, readConfigFile } from './config-file.js';
import { installInterruptHandler } from './interrupt.js';
import { layersCommand } from './layers.js';
import { installTemporalRuntime, LOG_FORMATS, type LogFormat, releaseTemporalRuntime } from './logging.js';
import { plantedCommand } from './planted.js';
import { queryCommand } from './query.js';
import { reportCommand } from './report.js';
import { type RunOptions, runCommand } from './run.js';
import {
  type ScheduleCreateOptions,
  scheduleCreateCommand,
  scheduleDeleteCommand,
  scheduleListCommand,
  scheduleTriggerCommand,
} from './schedule.js';
import { statusCommand } from './status.js';
import { assignSummary, sweepSummary } from './summary.js';
import { workerCommand } from './worker.js';

/** The version in package.json (the installed package's own). */
function packageVersion(): string {
  const file = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function positiveInt(name: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port, 0 to 65535');
  return n;
}

function countList(value: string): number[] {
  const counts = value.split(',').map((v) => Number(v.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 2)) {
    throw new InvalidArgumentError('cluster counts are integers >= 2, e.g. 2,3,4,5');
  }
  return counts;
}

function finiteNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

function device(value: string): Device {
  if (!(DEVICES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`one of ${DEVICES.join(', ')}`);
  return value as Device;
}

function stage(value: string): SweepStage {
  if (!(SWEEP_STAGES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`one of ${SWEEP_STAGES.join(', ')}`);
  }
  return value as SweepStage;
}

function tokenPositions(value: string): TokenPositions {
  if (!(TOKEN_POSITIONS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`one of ${TOKEN_POSITIONS.join(', ')}`);
  }
  return value as TokenPositions;
}

const d = CONFIG_DEFAULTS;

/**
 * Where a command finds Temporal: `--temporal` (else TEMPORAL_ADDRESS, resolved in the command) and
 * `--namespace`; with `queues`, also the task-queue prefix its workers and workflows use.
 */
function withTemporalOptions(command: Command, address: string, queues = false): Command {
  command
    .option('--temporal <address>', `Temporal frontend host:port (${address})`)
    .option(
      '--namespace <ns>',
      'Temporal namespace (default: $TEMPORAL_NAMESPACE, else default)',
      defaultNamespace(),
    );
  if (queues) {
    command.option(
      '--queue-prefix <name>',
      'task queues <name>-inference and <name>-cpu',
      DEFAULT_QUEUE_PREFIX,
    );
  }
  return command;
}

/** How a worker runs onnxruntime: shared by `run` (its in-process worker) and `worker`. */
function withInferenceOptions(command: Command): Command {
  return command
    .option('--threads <n>', 'onnxruntime threads per session', positiveInt('threads'))
    .option('--device <device>', `onnxruntime device: ${DEVICES.join(' | ')}`, device, 'cpu');
}

/** How a long-running worker is watched: metrics, health and log format (docs/operations.md). */
function withOperationsOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--metrics-port <port>',
        'serve Prometheus /metrics and /healthz on this port (0: any free one)',
      )
        .env('PURE_METRICS_PORT')
        .argParser(port),
    )
    .addOption(
      new Option('--temporal-metrics-port <port>', "serve the Temporal SDK's own metrics on this port")
        .env('PURE_TEMPORAL_METRICS_PORT')
        .argParser(port),
    )
    .addOption(
      new Option('--log-format <format>', 'text, or json: one object per line')
        .choices([...LOG_FORMATS])
        .env('PURE_LOG_FORMAT')
        .default('text'),
    );
}

/** The options that say what to sweep: shared by `run` and `schedule create`. */
function withSweepOptions(command: Command): Command {
  return command
    .option(
      '--config <file>',
      'YAML or JSON file with any of these options, in camelCase; flags given here override it',
    )
    .option('--model <uri>', 'ONNX model: path or s3://bucket/key (required, here or in --config)')
    .option(
      '--data <uri>',
      'images: folder or s3:// prefix, flat or in class sub-folders (required, here or in --config)',
    )
    .option(
      '--layers <names>',
      'comma-separated tensor names, lower layer first, or auto (stage outputs) (required, here or in --config)',
    )
    .option('--out <uri>', 'output root: folder or s3:// prefix', 'out')
    .option('--run <id>', 'run id (default: model name + hash of the options, so a re-run resumes)')
    .option('-k, --k <n>', 'references per neuron', positiveInt('k'), d.k)
    .option('--until <stage>', `last step to run: ${SWEEP_STAGES.join(' | ')}`, stage, d.until)
    .option('--clusters <list>', 'cluster counts tried per neuron', countList, [...d.clusterCounts])
    .option('--seed <n>', 'k-means seed', positiveInt('seed', 0), d.seed)
    .option(
      '--limit <n>',
      'use only n images, evenly spaced over the dataset (0 = all)',
      positiveInt('limit', 0),
      d.limit,
    )
    .option(
      '--tokens <which>',
      "a ViT layer's token positions for ActMax, circuit seeds, baseline and heatmaps: all | patches (without the class/register tokens)",
      tokenPositions,
      d.tokens,
    )
    .option(
      '--preprocess <spec>',
      'cifar10 | imagenet | clip | JSON spec (default: from the model input size)',
    )
    .option(
      '--evaluator <uri>',
      'image encoder (ONNX, path or s3://) for step 5: embeds every crop (tools/export_encoder.py makes CLIP / DINOv2)',
    )
    .option(
      '--evaluator-output <tensor>',
      'the encoder tensor to embed with, pooled over tokens or space (default: its first output)',
    )
    .option(
      '--evaluator-preprocess <spec>',
      'clip | imagenet | cifar10 | JSON spec (default: <evaluator>.json beside it, else from its input size)',
    )
    .option('--crop-images', 'also write every embedding crop as a PNG (crop-images/)')
    .option('--batch-size <n>', 'images per onnxruntime call', positiveInt('batch size'), d.batchSize)
    .option('--shard-size <n>', 'images per references activity', positiveInt('shard size'), d.shardSize)
    .option(
      '--neuron-batch <n>',
      'neurons per circuits / clustering activity',
      positiveInt('neuron batch'),
      d.neuronBatch,
    )
    .option('--window <n>', 'activities in flight per stage and layer', positiveInt('window'), d.window)
    .option(
      '--retry-window <minutes>',
      'how long S3/network outages are retried before the sweep fails',
      positiveInt('retry window'),
      d.retryWindowMinutes,
    );
}

/** A sweep command's options with its --config file's (the command line wins), required ones checked. */
function withConfigFile(opts: Record<string, unknown>, command: Command): Record<string, unknown> {
  const { config, ...given } = opts;
  const file: ConfigValues = typeof config === 'string' ? readConfigFile(config) : {};
  const merged: Record<string, unknown> = mergeConfig(
    given,
    (name) => command.getOptionValueSource(name),
    file,
  );
  for (const name of ['model', 'data', 'layers']) {
    if (merged[name] !== undefined) continue;
    const flags = command.options.find((o) => o.attributeName() === name)?.flags ?? `--${name}`;
    command.error(
      `error: required option '${flags}' not specified${typeof config === 'string' ? ` (nor ${name} in ${config})` : ''}`,
    );
  }
  return merged;
}

/** `pure run`'s options as the run uses them: flags, else --config's fields, else the defaults. */
export function runOptionsOf(opts: Record<string, unknown>, command: Command): RunOptions {
  const merged = withConfigFile(opts, command) as unknown as RunOptions;
  return { ...merged, temporal: temporalAddress(merged.temporal), stateDir: resolve(merged.stateDir) };
}

/** `pure schedule create`'s options; a shared sweep file's run-only fields are left out (and named). */
export function scheduleOptionsOf(
  opts: Record<string, unknown>,
  command: Command,
): { options: ScheduleCreateOptions; ignored: string[] } {
  const merged = withConfigFile(opts, command);
  const ignored = RUN_ONLY_FIELDS.filter((name) => name in merged);
  for (const name of ignored) delete merged[name];
  return { options: merged as unknown as ScheduleCreateOptions, ignored };
}

/** What `pure run` and `pure schedule create` do with their resolved options (tests replace them). */
export interface SweepActions {
  run(options: RunOptions): Promise<void> | void;
  scheduleCreate(id: string, options: ScheduleCreateOptions): Promise<void> | void;
}

async function runAction(options: RunOptions): Promise<void> {
  installInterruptHandler();
  installTemporalRuntime({ target: { file: resolve(options.stateDir, 'pure.log') } });
  try {
    const result = await runCommand(options);
    process.stdout.write(sweepSummary(result, runsStage(options, 'crops')));
  } finally {
    await releaseTemporalRuntime();
  }
}

const DEFAULT_ACTIONS: SweepActions = { run: runAction, scheduleCreate: scheduleCreateCommand };

/** The `pure` command line; main.ts parses process.argv with it. */
export function buildProgram(overrides: Partial<SweepActions> = {}): Command {
  const actions = { ...DEFAULT_ACTIONS, ...overrides };
  const program = new Command()
    .name('pure')
    .description('Find polysemantic neurons in image models and split them into pure virtual neurons (PURE).')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(pure <command> --help shows the options)');
  addRunCommand(program, actions);
  addAssignCommand(program);
  addScheduleCommands(program, actions);
  addServiceCommands(program);
  addRunReaderCommands(program);
  return program;
}

/** `pure run`: a sweep, on the embedded default or a Temporal server. */
function addRunCommand(program: Command, actions: SweepActions): void {
  withInferenceOptions(
    withTemporalOptions(
      withSweepOptions(
        program
          .command('run')
          .description(
            'Run a sweep: references, circuits and virtual neurons for every neuron of the given layers; with --evaluator also crops and their evaluation.',
          ),
      ),
      'default: $TEMPORAL_ADDRESS, else an embedded dev server',
      true,
    ),
  )
    .option('--no-worker', 'do not run an in-process worker (workers run elsewhere)')
    .option('--state-dir <dir>', 'where the embedded Temporal server keeps its state', '.pure')
    .action((opts, command: Command) => actions.run(runOptionsOf(opts, command)));
}

async function assignAction(run: string, images: string, opts: Record<string, unknown>): Promise<void> {
  const options = {
    ...opts,
    run,
    images,
    temporal: temporalAddress(opts.temporal as string | undefined),
    stateDir: resolve(opts.stateDir as string),
  } as AssignOptions;
  installInterruptHandler();
  installTemporalRuntime({ target: { file: resolve(options.stateDir, 'pure.log') } });
  try {
    process.stdout.write(assignSummary(await assignCommand(options)));
  } finally {
    await releaseTemporalRuntime();
  }
}

/** `pure assign`: new images to the virtual neurons of a finished run, on the same workers as sweeps. */
function addAssignCommand(program: Command): void {
  const a = ASSIGN_DEFAULTS;
  withInferenceOptions(
    withTemporalOptions(
      program
        .command('assign')
        .description(
          "Assign new images to a finished run's virtual neurons: per image and explained neuron, its activation and the virtual neuron nearest to its circuit (Parquet).",
        )
        .argument('<run>', 'the finished run: <out>/<run>, a folder or s3:// prefix')
        .argument('<images>', 'images: folder or s3:// prefix, flat or in class sub-folders')
        .option('--out <uri>', 'output root; the assignment goes to <out>/<id>/ (default: <run>/assign)')
        .option('--layers <names>', "comma-separated explained layers (default: all of the run's)")
        .option('--neurons <list>', 'channels to assign in each layer, e.g. 0-15,31 (default: all)')
        .option(
          '--count <n>',
          "virtual neurons per neuron: chosen (the run's automatic count), best (its best split, also for monosemantic neurons) or a count of the run's --clusters",
          a.count,
        )
        .option(
          '--min-activation <x>',
          'assign a pair only where the neuron fires above this (its circuit is zero at or below 0)',
          finiteNumber('min activation'),
          a.minActivation,
        )
        .option('--shard-size <n>', 'images per assign activity', positiveInt('shard size'), a.shardSize)
        .option(
          '--batch-size <n>',
          'images decoded and forwarded together',
          positiveInt('batch size'),
          a.batchSize,
        )
        .option('--window <n>', 'activities in flight', positiveInt('window'), a.window)
        .option(
          '--retry-window <minutes>',
          'how long S3/network outages are retried before the assignment fails',
          positiveInt('retry window'),
          d.retryWindowMinutes,
        ),
      'default: $TEMPORAL_ADDRESS, else an embedded dev server',
      true,
    ),
  )
    .option('--no-worker', 'do not run an in-process worker (workers run elsewhere)')
    .option('--state-dir <dir>', 'where the embedded Temporal server keeps its state', '.pure')
    .action(assignAction);
}

/** `pure schedule create | trigger | delete | list`. */
function addScheduleCommands(program: Command, actions: SweepActions): void {
  const schedule = program
    .command('schedule')
    .description('Recurring sweeps (e.g. nightly on the latest checkpoint) as Temporal schedules.');
  withTemporalOptions(
    withSweepOptions(
      schedule
        .command('create')
        .description(
          'Create a schedule; each firing configures the sweep anew, so a new checkpoint is a new run.',
        )
        .argument('<id>', 'schedule id'),
    ),
    'default: $TEMPORAL_ADDRESS',
    true,
  )
    .requiredOption('--cron <expr...>', 'cron expression(s), UTC, e.g. "0 2 * * *"')
    .option('--paused', 'create it paused')
    .option(
      '--compare-previous',
      "after each firing's sweep, compare its run with the previous firing's (the compare tables go into the new run)",
    )
    .action((id: string, opts, command: Command) => {
      const { options, ignored } = scheduleOptionsOf(opts, command);
      if (ignored.length > 0) {
        process.stderr.write(
          `[pure] ${opts.config}: ${ignored.join(', ')} only apply to pure run's own worker and server; ` +
            'schedule create ignores them\n',
        );
      }
      return actions.scheduleCreate(id, options);
    });
  for (const [name, description, action] of [
    ['trigger', 'Start a scheduled sweep now.', scheduleTriggerCommand],
    ['delete', 'Delete a schedule (running sweeps go on).', scheduleDeleteCommand],
  ] as const) {
    withTemporalOptions(
      schedule.command(name).description(description).argument('<id>', 'schedule id'),
      'default: $TEMPORAL_ADDRESS',
    ).action(action);
  }
  withTemporalOptions(
    schedule.command('list').description('List schedules with their next and last firing.'),
    'default: $TEMPORAL_ADDRESS',
  ).action(scheduleListCommand);
}

/** The commands that talk to a running service: status, worker, cancel. */
function addServiceCommands(program: Command): void {
  withTemporalOptions(
    program
      .command('status')
      .description('Progress of a sweep on a Temporal server, from any machine.')
      .argument('<run>', `the run id (or the workflow id ${sweepWorkflowId('<run>')})`),
    'default: $TEMPORAL_ADDRESS',
  ).action(statusCommand);

  withOperationsOptions(
    withInferenceOptions(
      withTemporalOptions(
        program
          .command('worker')
          .description('Run a worker that serves the inference and/or CPU task queues of a Temporal server.')
          .option('--queues <list>', `${QUEUE_ROLES.join(', ')}, or both`, QUEUE_ROLES.join(',')),
        `default: $TEMPORAL_ADDRESS, else ${LOCAL_TEMPORAL_ADDRESS}`,
        true,
      ),
    ),
  ).action((opts) => {
    installTemporalRuntime({
      target: 'stderr',
      format: opts.logFormat as LogFormat,
      ...(opts.temporalMetricsPort === undefined ? {} : { sdkMetricsPort: opts.temporalMetricsPort }),
    });
    return workerCommand({ ...opts, temporal: temporalAddress(opts.temporal) ?? LOCAL_TEMPORAL_ADDRESS });
  });

  withTemporalOptions(
    program
      .command('cancel')
      .description('Stop a running sweep (finished parts are kept; the same pure run resumes from them).')
      .argument('<run>', `the run id (or the workflow id ${sweepWorkflowId('<run>')})`)
      .option('--state-dir <dir>', 'the embedded server state of the pure run that started it', '.pure'),
    "default: $TEMPORAL_ADDRESS, else the embedded server's state in --state-dir",
  ).action((run: string, opts) => cancelCommand(run, { ...opts, temporal: temporalAddress(opts.temporal) }));
}

/** The commands that read a run's outputs or make inputs: query, report, compare, planted, layers. */
function addRunReaderCommands(program: Command): void {
  program
    .command('query')
    .description(
      "Query a run's Parquet tables with DuckDB SQL (views: samples, references, relevance, activations, clusters, neurons, crops, embeddings, evaluation, virtual_neurons, skipped, and pure compare's compare, compare_virtual_neurons; an assignment's: assignments, centroids, samples, skipped).",
    )
    .argument(
      '<run>',
      'the run folder or s3:// prefix: <out>/<run> (or an assignment folder: <run>/assign/<id>)',
    )
    .argument('[sql]', 'the query; without it, list the tables')
    .option('--format <format>', 'table | csv | json', 'table')
    .action(queryCommand);

  program
    .command('report')
    .description(
      'Write a static HTML report of a finished run to <run>/report/ (an overview, an index per layer, a page per neuron) and print where its index is.',
    )
    .argument('<run>', 'the run folder or s3:// prefix: <out>/<run>')
    .option(
      '--top <n>',
      'neurons per layer drawn with heatmap crops, most polysemantic first (every neuron gets its page; the others show their images)',
      positiveInt('top'),
      20,
    )
    .option('--no-crops', 'show the images instead of heatmap crops for every neuron (no model needed)')
    .addOption(
      new Option('--composite <name>', 'attribution rule set of the crops')
        .choices([...COMPOSITES])
        .default('epsilon-plus-flat'),
    )
    .action(reportCommand);

  program
    .command('compare')
    .description(
      'Compare two runs of the same layers (two checkpoints, or two datasets) neuron by neuron: references, cluster counts, circuits. Writes the compare tables and a page, and prints what changed.',
    )
    .argument('<runA>', 'the earlier run: <out>/<run> folder or s3:// prefix')
    .argument('<runB>', 'the later run')
    .option('--out <uri>', "where the tables and the page go (default: run B's folder)")
    .action(compareCommand);

  program
    .command('planted')
    .description(
      'Write a small model and images with planted polysemantic neurons (known truth) for a demo or test.',
    )
    .requiredOption('--out <dir>', 'folder for model.onnx, images/ and truth.json')
    .option('--seed <n>', 'random seed', positiveInt('seed', 0), 0)
    .option(
      '--images-per-feature <n>',
      'images of each of the 8 features',
      positiveInt('images per feature'),
      128,
    )
    .option('--overwrite', 'replace a previous planted data set in that folder')
    .action(plantedCommand);

  program
    .command('layers')
    .description('List candidate layers of an ONNX model with their shapes.')
    .argument('<model>', 'ONNX model path or s3:// URI')
    .option('--all', 'list every 4-D activation, not only block outputs')
    .action(layersCommand);
}
