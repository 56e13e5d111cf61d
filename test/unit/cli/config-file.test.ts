import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  CONFIG_FIELDS,
  ConfigFileError,
  configFieldsTable,
  mergeConfig,
  parseConfigFile,
} from '../../../cli/config-file.js';
import { parseYaml } from '../../../cli/config-yaml.js';
import { projectRoot } from '../../support/paths.js';

const VALID =
  'Valid fields: model, data, layers, out, run, k, until, clusters, seed, limit, tokens, preprocess, evaluator, ' +
  'evaluatorOutput, evaluatorPreprocess, cropImages, batchSize, shardSize, neuronBatch, window, retryWindow, ' +
  'temporal, namespace, queuePrefix, threads, device, worker, stateDir';

/** The problems a config file's text gets, one message per line (nothing when it is valid). */
function problems(source: string, file = 'sweep.yaml'): string[] {
  try {
    parseConfigFile(source, file, '/base');
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, String(error));
    return error.problems;
  }
}

/** Bad config files as users write them, each with the exact messages it must get. */
const BAD: { name: string; file?: string; source: string; expect: string[] }[] = [
  {
    name: 'an unknown field, with the closest name suggested',
    source: 'model: m.onnx\nclusterz: [2, 3]\n',
    expect: [`sweep.yaml: clusterz: unknown field; did you mean clusters? ${VALID} (line 2)`],
  },
  {
    name: 'an unknown field with nothing close',
    source: 'colour: red\n',
    expect: [`sweep.yaml: colour: unknown field. ${VALID} (line 1)`],
  },
  {
    name: "a field copied from a run's config.json (clusterCounts)",
    source: 'clusterCounts: [2, 3]\n',
    expect: [`sweep.yaml: clusterCounts: unknown field; did you mean clusters? ${VALID} (line 1)`],
  },
  {
    name: 'a flag spelling (batch-size)',
    source: 'k: 10\nbatch-size: 8\n',
    expect: [`sweep.yaml: batch-size: unknown field; did you mean batchSize? ${VALID} (line 2)`],
  },
  {
    name: 'a word where a number is expected',
    source: 'k: ten\n',
    expect: ['sweep.yaml: k: expected an integer >= 1, got "ten" (line 1)'],
  },
  {
    name: 'k out of range',
    source: 'model: m.onnx\nk: 0\n',
    expect: ['sweep.yaml: k: expected an integer >= 1, got 0 (line 2)'],
  },
  {
    name: 'a fraction where an integer is expected',
    source: 'seed: 1.5\n',
    expect: ['sweep.yaml: seed: expected an integer >= 0, got 1.5 (line 1)'],
  },
  {
    name: 'a bad element of a block cluster list, on its own line',
    source: '# nightly\nmodel: m.onnx\ndata: images\nlayers: auto\nk: 10\nclusters:\n  - 2\n  - 3\n  - 1\n',
    expect: ['sweep.yaml: clusters[2]: expected an integer >= 2, got 1 (line 9)'],
  },
  {
    name: 'a bad element of a flow cluster list',
    source: 'clusters: [2, 3, 1]\n',
    expect: ['sweep.yaml: clusters[2]: expected an integer >= 2, got 1 (line 1)'],
  },
  {
    name: 'a bad element of a comma-separated cluster string',
    source: 'clusters: "2,x,4"\n',
    expect: ['sweep.yaml: clusters[1]: expected an integer >= 2, got "x" (line 1)'],
  },
  {
    name: 'an empty cluster list',
    source: 'clusters: []\n',
    expect: [
      'sweep.yaml: clusters: expected a list of integers >= 2, or a comma-separated string of them, got an empty list (line 1)',
    ],
  },
  {
    name: 'a preprocess spec with three mistakes',
    source:
      'preprocess:\n  resizeShortSide: 16\n  cropSize: 32\n  mean: [0.5, 0.5]\n  std: [0.25, 0, 0.25]\n',
    expect: [
      'sweep.yaml: preprocess.resizeShortSide: expected an integer >= cropSize (32), got 16 (line 2)',
      'sweep.yaml: preprocess.mean: expected a list of 3 numbers (R, G, B), got a list [0.5, 0.5] (line 4)',
      'sweep.yaml: preprocess.std[1]: expected a number > 0, got 0 (line 5)',
    ],
  },
  {
    name: 'a preprocess spec with a misspelt and so missing field',
    source: 'preprocess: {resizeShortSide: 36, crop: 32, mean: [0, 0, 0], std: [1, 1, 1]}\n',
    expect: [
      'sweep.yaml: preprocess.crop: unknown field; did you mean cropSize? Valid fields: resizeShortSide, cropSize, mean, std, interpolation (line 1)',
      'sweep.yaml: preprocess: missing cropSize (a spec needs resizeShortSide, cropSize, mean, std) (line 1)',
    ],
  },
  {
    name: 'an unknown preprocess preset',
    source: 'preprocess: cifar\n',
    expect: [
      'sweep.yaml: preprocess: expected cifar10, imagenet, clip, or a mapping {resizeShortSide, cropSize, mean, std}, got "cifar" (did you mean cifar10?) (line 1)',
    ],
  },
  {
    name: 'a preprocess spec with an unknown interpolation',
    source:
      'preprocess: {resizeShortSide: 36, cropSize: 32, mean: [0, 0, 0], std: [1, 1, 1], interpolation: nearest}\n',
    expect: [
      'sweep.yaml: preprocess.interpolation: expected one of bilinear, bicubic, got "nearest" (line 1)',
    ],
  },
  {
    name: 'an evaluator that is not a string',
    source: 'evaluator: 5\n',
    expect: ['sweep.yaml: evaluator: expected a string, got 5 (quote it: "5") (line 1)'],
  },
  {
    name: 'an empty evaluator output',
    source: 'evaluator: enc.onnx\nevaluatorOutput: ""\n',
    expect: ['sweep.yaml: evaluatorOutput: expected a string, got an empty string (line 2)'],
  },
  {
    name: 'a misspelt evaluator preset',
    source: 'evaluatorPreprocess: imagnet\n',
    expect: [
      'sweep.yaml: evaluatorPreprocess: expected cifar10, imagenet, clip, or a mapping {resizeShortSide, cropSize, mean, std}, got "imagnet" (did you mean imagenet?) (line 1)',
    ],
  },
  {
    name: 'an evaluator spec with a bad field, by its path',
    source:
      'evaluator: enc.onnx\nevaluatorPreprocess:\n  resizeShortSide: 224\n  cropSize: 224\n  mean: [0.5, 0.5, 0.5]\n  std: [0.5, -1, 0.5]\n',
    expect: ['sweep.yaml: evaluatorPreprocess.std[1]: expected a number > 0, got -1 (line 6)'],
  },
  {
    name: 'an evaluator spec as a JSON string with a misspelt field',
    source:
      'evaluatorPreprocess: \'{"resizeShortSide": 224, "cropSize": 224, "mean": [0, 0, 0], "std": [1, 1, 1], "interp": "bicubic"}\'\n',
    expect: [
      'sweep.yaml: evaluatorPreprocess.interp: unknown field; did you mean interpolation? Valid fields: resizeShortSide, cropSize, mean, std, interpolation (line 1)',
    ],
  },
  {
    name: 'yes for cropImages',
    source: 'cropImages: yes\n',
    expect: ['sweep.yaml: cropImages: expected true or false, got "yes" (line 1)'],
  },
  {
    name: 'an evaluator field misspelt with the flag spelling',
    source: 'evaluator-output: x\n',
    expect: [`sweep.yaml: evaluator-output: unknown field; did you mean evaluatorOutput? ${VALID} (line 1)`],
  },
  {
    name: 'malformed YAML: a list never closed',
    source: 'model: m.onnx\nlayers: [a, b\nk: 10\n',
    expect: [
      'sweep.yaml: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 3)',
    ],
  },
  {
    name: 'malformed YAML: a line indented under a plain value',
    source: 'model: m.onnx\nk: 10\n  seed: 2\n',
    expect: ['sweep.yaml: not valid YAML: Nested mappings are not allowed in compact mappings (line 2)'],
  },
  {
    name: 'malformed YAML: a field twice',
    source: 'k: 10\nseed: 1\nk: 20\n',
    expect: ['sweep.yaml: not valid YAML: Map keys must be unique (line 3)'],
  },
  {
    name: 'two documents in one file',
    source: 'k: 10\n---\nseed: 2\n',
    expect: [
      'sweep.yaml: not valid YAML: one document per config file (a second --- starts another) (line 2)',
    ],
  },
  {
    name: 'an empty file',
    source: '',
    expect: [
      'sweep.yaml: the file is empty; expected the options of pure run as "field: value" lines (model, data, layers, ...)',
    ],
  },
  {
    name: 'a file of comments only',
    source: '# nothing yet\n\n',
    expect: [
      'sweep.yaml: the file is empty; expected the options of pure run as "field: value" lines (model, data, layers, ...)',
    ],
  },
  {
    name: 'a list instead of a mapping',
    source: '- model: m.onnx\n',
    expect: ['sweep.yaml: expected the options of pure run as "field: value" lines, got a list [...]'],
  },
  {
    name: 'a list where a string is expected',
    source: 'model: [a.onnx, b.onnx]\n',
    expect: ['sweep.yaml: model: expected a string, got a list ["a.onnx", "b.onnx"] (line 1)'],
  },
  {
    name: 'a number where a string is expected',
    source: 'run: 2024\n',
    expect: ['sweep.yaml: run: expected a string, got 2024 (quote it: "2024") (line 1)'],
  },
  {
    name: 'a layer list with a number in it',
    source: 'layers:\n- /a/Relu\n- 3\n',
    expect: ['sweep.yaml: layers[1]: expected a layer name (a string without commas), got 3 (line 3)'],
  },
  {
    name: 'an unknown device',
    source: 'device: gpu\n',
    expect: ['sweep.yaml: device: expected one of cpu, cuda, got "gpu" (did you mean cuda?) (line 1)'],
  },
  {
    name: 'a misspelt stage',
    source: 'until: reference\n',
    expect: [
      'sweep.yaml: until: expected one of references, virtual-neurons, crops, evaluation, got "reference" (did you mean references?) (line 1)',
    ],
  },
  {
    name: 'a negative window',
    source: 'window: -1\n',
    expect: ['sweep.yaml: window: expected an integer >= 1, got -1 (line 1)'],
  },
  {
    name: 'a field left empty',
    source: 'k:\n',
    expect: [
      'sweep.yaml: k: expected an integer >= 1, got an empty value (leave the field out for the default) (line 1)',
    ],
  },
  {
    name: 'yes for a boolean (YAML 1.2 reads it as a string)',
    source: 'worker: yes\n',
    expect: ['sweep.yaml: worker: expected true or false, got "yes" (line 1)'],
  },
  {
    name: 'several problems, all reported',
    source: 'model: m.onnx\nk: 0\nthreads: x\nwindw: 2\n',
    expect: [
      `sweep.yaml: windw: unknown field; did you mean window? ${VALID} (line 4)`,
      'sweep.yaml: k: expected an integer >= 1, got 0 (line 2)',
      'sweep.yaml: threads: expected an integer >= 1, got "x" (line 3)',
    ],
  },
  {
    name: 'malformed JSON',
    file: 'sweep.json',
    source: '{\n  "model": "m.onnx",\n  "k": 10\n  "seed": 1\n}\n',
    expect: ['sweep.json: not valid JSON: Implicit keys need to be on a single line (line 3)'],
  },
  {
    name: 'a wrong value in JSON, with its line',
    file: 'sweep.json',
    source: '{\n  "model": "m.onnx",\n  "clusters": [2, 3,\n    1]\n}\n',
    expect: ['sweep.json: clusters[2]: expected an integer >= 2, got 1 (line 4)'],
  },
];

describe('config files', () => {
  test(`${BAD.length} bad config files, each with its exact messages`, () => {
    assert.ok(BAD.length >= 15);
    for (const row of BAD) assert.deepEqual(problems(row.source, row.file), row.expect, row.name);
  });

  test('every field, as commander holds the option; local paths against the file folder', () => {
    const source = [
      'model: ../models/m.onnx',
      'data: "s3://bucket/images/"',
      'layers:',
      '  - /a/Relu',
      "  - '/b/Relu'",
      'out: /abs/out',
      'run: nightly',
      'k: 10',
      'until: references',
      'clusters: 2, 3',
      'seed: 0',
      'limit: 200',
      'preprocess:',
      '  std: [0.25, 0.25, 0.25]',
      '  mean: [0.5, 0.5, 0.5]',
      '  cropSize: 32',
      '  resizeShortSide: 36',
      'evaluator: ../models/encoder.onnx',
      'evaluatorOutput: /pool/Flatten_output_0',
      'evaluatorPreprocess: {resizeShortSide: 224, cropSize: 224, interpolation: bicubic, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}',
      'cropImages: true',
      'batchSize: 8',
      'shardSize: 100',
      'neuronBatch: 4',
      'window: 2',
      'retryWindow: 5',
      'temporal: temporal:7233   # host:port',
      'namespace: ns',
      'queuePrefix: q',
      'threads: 2',
      'device: cpu',
      'worker: false',
      'stateDir: state',
    ].join('\n');
    assert.deepEqual(parseConfigFile(source, 'sweep.yaml', '/base/sweeps'), {
      model: '/base/models/m.onnx',
      data: 's3://bucket/images/',
      layers: '/a/Relu,/b/Relu',
      out: '/abs/out',
      run: 'nightly',
      k: 10,
      until: 'references',
      clusters: [2, 3],
      seed: 0,
      limit: 200,
      // The spec as --preprocess JSON would give it, fields in the spec's own order.
      preprocess: '{"resizeShortSide":36,"cropSize":32,"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25]}',
      evaluator: '/base/models/encoder.onnx',
      evaluatorOutput: '/pool/Flatten_output_0',
      evaluatorPreprocess:
        '{"resizeShortSide":224,"cropSize":224,"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25],"interpolation":"bicubic"}',
      cropImages: true,
      batchSize: 8,
      shardSize: 100,
      neuronBatch: 4,
      window: 2,
      retryWindow: 5,
      temporal: 'temporal:7233',
      namespace: 'ns',
      queuePrefix: 'q',
      threads: 2,
      device: 'cpu',
      worker: false,
      stateDir: '/base/sweeps/state',
    });
  });

  test('a JSON file reads as the same YAML', () => {
    const yaml = 'model: m.onnx\nlayers: [a, b]\nclusters: [2, 3]\npreprocess: cifar10\nworker: true\n';
    const json =
      '{"model": "m.onnx", "layers": ["a", "b"], "clusters": [2, 3], "preprocess": "cifar10", "worker": true}';
    assert.deepEqual(parseConfigFile(json, 'f.json', '/d'), parseConfigFile(yaml, 'f.yaml', '/d'));
  });

  test("README's example is a valid config file and its table is built from the fields", () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const example = /```yaml\n(# sweep\.yaml\n[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'README has a ```yaml block starting with # sweep.yaml');
    const values = parseConfigFile(example, 'sweep.yaml', '/p');
    assert.deepEqual(Object.keys(values), ['model', 'data', 'layers', 'out', 'k', 'clusters', 'preprocess']);
    // The README's sample message is what that file gets with its third cluster count set to 1.
    assert.deepEqual(problems(example.replace('[2, 3, 4, 5]', '[2, 3, 1, 5]')), [
      'sweep.yaml: clusters[2]: expected an integer >= 2, got 1 (line 6)',
    ]);
    assert.match(readme, /sweep\.yaml: clusters\[2\]: expected an integer >= 2, got 1 \(line 6\)/);
    assert.ok(readme.includes(configFieldsTable()), "README's table of config fields is configFieldsTable()");
    for (const name of Object.keys(CONFIG_FIELDS)) assert.ok(configFieldsTable().includes(`\`${name}\``));
  });

  test('mergeConfig: flags from the command line win, defaults do not', () => {
    const cli = { k: 100, seed: 7, out: 'out', worker: true };
    const source = (name: string) => ({ seed: 'cli', k: 'default', out: 'default', worker: 'default' })[name];
    assert.deepEqual(mergeConfig(cli, source, { k: 10, seed: 1, worker: false, limit: 5 }), {
      k: 10,
      seed: 7,
      out: 'out',
      worker: false,
      limit: 5,
    });
  });
});

describe('the YAML reader', () => {
  test('block and flow collections, quoting, comments and YAML 1.2 scalars', () => {
    const { value, lines } = parseYaml(
      [
        '---',
        'a: 1   # comment',
        "b: 'it''s # not a comment'",
        'c: "tab\\tand \\u00e9"',
        'd: [1, "x, y", {e: null}]',
        'f:',
        '  - g: true',
        '    h: ~',
        '  - - 0x1f',
        '    - 1e3',
        "i: don't",
        'j: host:7233',
        'k: -.inf',
        'l: "007"',
      ].join('\n'),
    );
    assert.deepEqual(value, {
      a: 1,
      b: "it's # not a comment",
      c: 'tab\tand é',
      d: [1, 'x, y', { e: null }],
      f: [{ g: true, h: null }, [31, 1000]],
      i: "don't",
      j: 'host:7233',
      k: Number.NEGATIVE_INFINITY,
      l: '007',
    });
    assert.equal(lines.get('f[0].h'), 8);
    assert.equal(lines.get('f[1][1]'), 10);
    assert.equal(lines.get('d[2].e'), 5);
  });

  test('syntax errors are refused with their line', () => {
    for (const [source, message] of [
      ['a: 1\n---\nb: 2\n', /one document per config file .* \(line 2\)/],
      ['a: "open\n', /Missing closing "quote \(line 2\)$/],
      ['\ta: 1\n', /Tabs are not allowed as indentation \(line 1\)/],
      ['a: b: c\n', /Nested mappings are not allowed in compact mappings \(line 1\)/],
    ] as const) {
      assert.match(problems(source)[0] ?? '', message, source);
    }
  });
});
