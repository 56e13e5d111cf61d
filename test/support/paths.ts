import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root, whether running from `test/` sources or compiled `dist/test/`. */
export const projectRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('project root (package.json) not found above test/support');
    dir = up;
  }
  return dir;
})();

/** The shared models and datasets live beside the project, never inside it. */
export const sharedDir = process.env.PURE_SHARED_DIR ?? resolve(projectRoot, '..', 'shared');

export const sharedModel = (file: string): string => resolve(sharedDir, 'models', file);
export const sharedDataset = (name: string): string => resolve(sharedDir, 'datasets', name);

/** The Python with the table readers (pandas, pyarrow, polars): `bash infra/tools.sh install readers`. */
export const readersPython = resolve(
  process.env.PURE_TOOLS_DIR ?? resolve(projectRoot, '.tools'),
  'venv',
  'bin',
  'python',
);

/**
 * The evaluator the tests and the demo use: the shared SqueezeNet's pooled last Fire module (512-d), as
 * `pure run` flags.
 */
export const squeezenetEvaluatorArgs = (): string[] => [
  '--evaluator',
  sharedModel('squeezenet1.1-imagenet.onnx'),
  '--evaluator-output',
  '/fires.7/Concat_output_0',
  '--evaluator-preprocess',
  'imagenet',
];

/** Small models committed with the tests (test/fixtures/models/README.md); read from the source tree. */
export const fixtureModel = (file: string): string =>
  resolve(projectRoot, 'test', 'fixtures', 'models', file);
