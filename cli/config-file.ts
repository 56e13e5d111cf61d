import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { DEVICES, type Device } from '../core/adapters/onnxruntime/session.js';
import { PREPROCESS_PRESETS } from '../core/compute/images/preprocess.js';
import { TOKEN_POSITIONS, type TokenPositions } from '../core/compute/onnx/feature-layout.js';
import { SWEEP_STAGES, type SweepStage } from '../core/compute/run/config.js';
import { formatPath, type PathSegment, parseYaml, YamlSyntaxError } from './config-yaml.js';
import type { RunOptions } from './run.js';

/**
 * `pure run --config sweep.yaml` (and `pure schedule create --config`): every option of `pure run` in a
 * YAML or JSON file, field names in camelCase (`--batch-size` is `batchSize`, `--no-worker` is
 * `worker: false`). The fields are declared once, below: their types, the checks, the messages and
 * README's table of them all come from CONFIG_FIELDS. A field holds what commander would hold for the
 * flag, so a file and the same flags give the same options (mergeConfig).
 */

/** Collects problems as `file: path: expected X, got Y (line N)`. */
class Problems {
  readonly list: string[] = [];

  constructor(
    private readonly file: string,
    private readonly lines: Map<string, number>,
  ) {}

  /** The line of a path, else of the nearest enclosing field (a comma string's elements have none). */
  private lineOf(path: readonly PathSegment[]): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const line = this.lines.get(formatPath(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  }

  add(path: readonly PathSegment[], message: string) {
    const line = this.lineOf(path);
    const where = path.length > 0 ? `${formatPath(path)}: ` : '';
    this.list.push(`${this.file}: ${where}${message}${line === undefined ? '' : ` (line ${line})`}`);
  }

  expected(path: readonly PathSegment[], what: string, got: unknown, hint = '') {
    this.add(path, `expected ${what}, got ${describe(got)}${hint}`);
  }
}

/** A value as a message shows it: strings quoted, lists and mappings in brief. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (value === '') return 'an empty string';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) {
    if (value.length === 0) return 'an empty list';
    const shown = value.slice(0, 5).map((v) => (typeof v === 'object' && v !== null ? '...' : describe(v)));
    return `a list [${shown.join(', ')}${value.length > 5 ? ', ...' : ''}]`;
  }
  if (typeof value === 'object') return `a mapping {${Object.keys(value).join(', ')}}`;
  return String(value);
}

interface Field<T> {
  /** What a value must be, as the messages and README's table say it. */
  readonly expected: string;
  /** A local path: relative ones are resolved against the config file's folder. */
  readonly isPath?: boolean;
  /** The value as commander holds the option, or undefined after reporting why not. */
  read(value: unknown, path: PathSegment[], problems: Problems): T | undefined;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const emptyHint = (value: unknown) =>
  value === null || value === undefined ? ' (leave the field out for the default)' : '';

function text(options: { isPath?: boolean } = {}): Field<string> {
  return {
    expected: 'a string',
    ...options,
    read(value, path, problems) {
      if (typeof value === 'string' && value !== '') return value;
      const quote =
        typeof value === 'number' || typeof value === 'boolean' ? ` (quote it: "${String(value)}")` : '';
      problems.expected(path, 'a string', value, quote || emptyHint(value));
      return undefined;
    },
  };
}

function integer(min: number): Field<number> {
  const expected = `an integer >= ${min}`;
  return {
    expected,
    read(value, path, problems) {
      if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
      problems.expected(path, expected, value, emptyHint(value));
      return undefined;
    },
  };
}

function oneOf<T extends string>(values: readonly T[]): Field<T> {
  const expected = `one of ${values.join(', ')}`;
  return {
    expected,
    read(value, path, problems) {
      if ((values as readonly unknown[]).includes(value)) return value as T;
      const close = typeof value === 'string' ? closest(value, values) : undefined;
      problems.expected(path, expected, value, close ? ` (did you mean ${close}?)` : emptyHint(value));
      return undefined;
    },
  };
}

const boolean: Field<boolean> = {
  expected: 'true or false',
  read(value, path, problems) {
    if (typeof value === 'boolean') return value;
    problems.expected(path, 'true or false', value, emptyHint(value));
    return undefined;
  },
};

/** `--layers`: the option is one comma-separated string; a list is joined into it. */
const layers: Field<string> = {
  expected: '"auto", a comma-separated string or a list of layer names',
  read(value, path, problems) {
    if (typeof value === 'string' && value.trim() !== '') return value;
    if (!Array.isArray(value) || value.length === 0) {
      problems.expected(path, this.expected, value, emptyHint(value));
      return undefined;
    }
    let ok = true;
    value.forEach((name, i) => {
      if (typeof name !== 'string' || name.trim() === '' || name.includes(',')) {
        problems.expected([...path, i], 'a layer name (a string without commas)', name);
        ok = false;
      }
    });
    return ok ? value.join(',') : undefined;
  },
};

/** `--clusters`: a list, or the flag's comma-separated form; each element is checked on its own. */
const clusters: Field<number[]> = {
  expected: 'a list of integers >= 2, or a comma-separated string of them',
  read(value, path, problems) {
    const items =
      typeof value === 'string'
        ? value.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : s.trim()))
        : value;
    if (!Array.isArray(items) || items.length === 0) {
      problems.expected(path, this.expected, value, emptyHint(value));
      return undefined;
    }
    let ok = true;
    items.forEach((n, i) => {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 2) {
        problems.expected([...path, i], 'an integer >= 2', n);
        ok = false;
      }
    });
    return ok ? (items as number[]) : undefined;
  },
};

const PRESETS = Object.keys(PREPROCESS_PRESETS);
const SPEC_FIELDS = ['resizeShortSide', 'cropSize', 'mean', 'std'] as const;
/** Optional fields of a spec. */
const OPTIONAL_SPEC_FIELDS = ['interpolation'] as const;
const INTERPOLATIONS = ['bilinear', 'bicubic'] as const;

/** `--preprocess`: a preset name, or a spec (a mapping here, JSON on the command line). */
const preprocess: Field<string> = {
  expected: `${PRESETS.join(', ')}, or a mapping {${SPEC_FIELDS.join(', ')}}`,
  read(value, path, problems) {
    if (typeof value === 'string' && PRESETS.includes(value)) return value;
    let spec = value;
    if (typeof value === 'string' && value.trim().startsWith('{')) {
      try {
        spec = JSON.parse(value);
      } catch {
        // reported below, as any other string
      }
    }
    if (!isMapping(spec)) {
      const close = typeof value === 'string' ? closest(value, PRESETS) : undefined;
      problems.expected(path, this.expected, value, close ? ` (did you mean ${close}?)` : emptyHint(value));
      return undefined;
    }
    const before = problems.list.length;
    unknownFields(spec, [...SPEC_FIELDS, ...OPTIONAL_SPEC_FIELDS], path, problems);
    for (const name of SPEC_FIELDS) {
      if (!(name in spec)) problems.add(path, `missing ${name} (a spec needs ${SPEC_FIELDS.join(', ')})`);
    }
    const int = (name: 'cropSize' | 'resizeShortSide', min: number, what: string) => {
      const v = spec[name];
      if (v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= min)) return;
      problems.expected([...path, name], `an integer >= ${what}`, v);
    };
    int('cropSize', 1, '1');
    const crop = spec.cropSize;
    const cropOk = typeof crop === 'number' && Number.isInteger(crop) && crop >= 1;
    int('resizeShortSide', cropOk ? crop : 1, cropOk ? `cropSize (${crop})` : '1');
    for (const name of ['mean', 'std'] as const) {
      const v = spec[name];
      if (v === undefined) continue;
      if (!Array.isArray(v) || v.length !== 3) {
        problems.expected([...path, name], 'a list of 3 numbers (R, G, B)', v);
        continue;
      }
      v.forEach((x, i) => {
        const positive = name === 'std';
        if (typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0))
          problems.expected([...path, name, i], positive ? 'a number > 0' : 'a number', x);
      });
    }
    const interpolation = spec.interpolation;
    if (interpolation !== undefined && !INTERPOLATIONS.includes(interpolation as never)) {
      const close = typeof interpolation === 'string' ? closest(interpolation, INTERPOLATIONS) : undefined;
      problems.expected(
        [...path, 'interpolation'],
        `one of ${INTERPOLATIONS.join(', ')}`,
        interpolation,
        close ? ` (did you mean ${close}?)` : '',
      );
    }
    if (problems.list.length > before) return undefined;
    // The form `--preprocess '{"resizeShortSide":...}'` gives, fields in the spec's own order.
    const present = [...SPEC_FIELDS, ...OPTIONAL_SPEC_FIELDS.filter((name) => spec[name] !== undefined)];
    return JSON.stringify(Object.fromEntries(present.map((name) => [name, spec[name]])));
  },
};

/**
 * The fields of a config file: the options of `pure run`, in its --help order. Types, checks, messages
 * and README's table come from here.
 */
export const CONFIG_FIELDS = {
  model: text({ isPath: true }),
  data: text({ isPath: true }),
  layers,
  out: text({ isPath: true }),
  run: text(),
  k: integer(1),
  until: oneOf<SweepStage>(SWEEP_STAGES),
  clusters,
  seed: integer(0),
  limit: integer(0),
  tokens: oneOf<TokenPositions>(TOKEN_POSITIONS),
  preprocess,
  evaluator: text({ isPath: true }),
  evaluatorOutput: text(),
  evaluatorPreprocess: preprocess,
  cropImages: boolean,
  batchSize: integer(1),
  shardSize: integer(1),
  neuronBatch: integer(1),
  window: integer(1),
  retryWindow: integer(1),
  temporal: text(),
  namespace: text(),
  queuePrefix: text(),
  threads: integer(1),
  device: oneOf<Device>(DEVICES),
  worker: boolean,
  stateDir: text({ isPath: true }),
} satisfies Record<string, Field<unknown>>;

export type ConfigField = keyof typeof CONFIG_FIELDS;

/** A config file's fields, each as commander holds the option of the same name. */
export type ConfigValues = {
  [K in ConfigField]?: (typeof CONFIG_FIELDS)[K] extends Field<infer T> ? T : never;
};

/** The fields used only by `pure run` itself (its in-process worker and embedded server). */
export const RUN_ONLY_FIELDS = ['threads', 'device', 'worker', 'stateDir'] as const satisfies ConfigField[];

/** Compile-time: every field is an option of `pure run`, of the same type (a test checks the flags). */
type Expect<T extends true> = T;
export type FieldsAreRunOptions = Expect<
  Required<ConfigValues> extends Pick<RunOptions, ConfigField> ? true : false
>;

/** Names users reach for: SweepConfig's names in a run's config.json, a flag's spelling, a device's. */
const ALIASES: Record<string, string> = {
  modelUri: 'model',
  dataUri: 'data',
  outUri: 'out',
  runId: 'run',
  clusterCounts: 'clusters',
  retryWindowMinutes: 'retryWindow',
  noWorker: 'worker',
  gpu: 'cuda',
};

const normalise = (name: string) => name.toLowerCase().replace(/[-_\s]/g, '');

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/** The candidate a misspelt name most likely meant, if any is close. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const alias = ALIASES[name] ?? ALIASES[name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())];
  if (alias && candidates.includes(alias)) return alias;
  const n = normalise(name);
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(n.length / 4));
  for (const candidate of candidates) {
    const c = normalise(candidate);
    const d = editDistance(n, c);
    if (d === 0 || (n.length >= 3 && c.startsWith(n))) return candidate;
    if (d <= bestDistance && (best === undefined || d < bestDistance)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function unknownFields(
  value: Record<string, unknown>,
  valid: readonly string[],
  path: PathSegment[],
  problems: Problems,
) {
  for (const name of Object.keys(value)) {
    if (valid.includes(name)) continue;
    const close = closest(name, valid);
    problems.add(
      [...path, name],
      `unknown field${close ? `; did you mean ${close}?` : '.'} Valid fields: ${valid.join(', ')}`,
    );
  }
}

export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

const isLocalPath = (value: string) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !isAbsolute(value);

/**
 * A config file's text, checked: every problem at once, each as `file: path: expected X, got Y (line N)`
 * (ConfigFileError). `file` is the name messages use; relative paths in it are resolved against `baseDir`.
 */
export function parseConfigFile(source: string, file: string, baseDir: string): ConfigValues {
  let parsed: ReturnType<typeof parseYaml>;
  try {
    parsed = parseYaml(source);
  } catch (error) {
    if (!(error instanceof YamlSyntaxError)) throw error;
    const format = extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML';
    throw new ConfigFileError([`${file}: not valid ${format}: ${error.message} (line ${error.line})`]);
  }
  const problems = new Problems(file, parsed.lines);
  const { value } = parsed;
  const fields = Object.keys(CONFIG_FIELDS);
  if (value === undefined) {
    problems.add(
      [],
      `the file is empty; expected the options of pure run as "field: value" lines (${fields.slice(0, 3).join(', ')}, ...)`,
    );
  } else if (!isMapping(value)) {
    problems.add([], `expected the options of pure run as "field: value" lines, got ${describe(value)}`);
  }
  if (problems.list.length > 0 || !isMapping(value)) throw new ConfigFileError(problems.list);

  unknownFields(value, fields, [], problems);
  const values: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(CONFIG_FIELDS) as [ConfigField, Field<unknown>][]) {
    if (!(name in value)) continue;
    let read = field.read(value[name], [name], problems);
    if (field.isPath && typeof read === 'string' && isLocalPath(read)) read = resolve(baseDir, read);
    if (read !== undefined) values[name] = read;
  }
  if (problems.list.length > 0) throw new ConfigFileError(problems.list);
  return values as ConfigValues;
}

/** `--config <file>`: the file read and checked; messages name it as given. */
export function readConfigFile(file: string): ConfigValues {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigFileError([`--config ${file}: cannot read it (${(error as Error).message})`]);
  }
  return parseConfigFile(source, file, dirname(resolve(file)));
}

/** Where commander says an option's value came from: 'cli', 'env', 'default', ... or undefined. */
export type OptionSource = (name: string) => string | undefined;

/**
 * A command's options with a config file's fields: an option given on the command line keeps its value,
 * any other (a default, or not given) takes the file's. Both hold values in commander's form, so the
 * result is what the same flags would have given.
 */
export function mergeConfig<T extends object>(
  cli: T,
  sourceOf: OptionSource,
  file: ConfigValues,
): T & ConfigValues {
  const merged = { ...cli } as Record<string, unknown>;
  for (const [name, value] of Object.entries(file)) {
    const source = sourceOf(name);
    if (value !== undefined && source !== 'cli' && source !== 'env') merged[name] = value;
  }
  return merged as T & ConfigValues;
}

/** README's table of the fields: one row per kind of value, built from CONFIG_FIELDS. */
export function configFieldsTable(): string {
  const rows = new Map<string, string[]>();
  for (const [name, field] of Object.entries(CONFIG_FIELDS) as [string, Field<unknown>][]) {
    rows.set(field.expected, [...(rows.get(field.expected) ?? []), `\`${name}\``]);
  }
  const table = [
    ['fields', 'value'],
    ['---', '---'],
    ...[...rows].map(([expected, names]) => [names.join(', '), expected]),
  ];
  const width = [0, 1].map((c) => Math.max(...table.map((row) => row[c]!.length)));
  return table
    .map((row) =>
      row[0] === '---'
        ? `| ${'-'.repeat(width[0]!)} | ${'-'.repeat(width[1]!)} |`
        : `| ${row[0]!.padEnd(width[0]!)} | ${row[1]!.padEnd(width[1]!)} |`,
    )
    .join('\n');
}
