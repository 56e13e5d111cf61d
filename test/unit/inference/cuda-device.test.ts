import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstatSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CUDA_PROVIDER_FILES,
  checkDevice,
  cudaProbeFailure,
  missingCudaProviderFiles,
  ortNativeDir,
} from '../../../core/adapters/onnxruntime/device.js';
import { cudaOutcome, cudaProviderInstalled, hasNvidiaGpu } from '../../support/cuda.js';
import { projectRoot } from '../../support/paths.js';

const run = promisify(execFile);

describe('checkDevice', () => {
  test('cpu needs nothing', async () => {
    await checkDevice('cpu');
  });

  test('cuda without the provider files says to run the gpu install', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pure-no-cuda-'));
    try {
      assert.deepEqual(missingCudaProviderFiles(empty), CUDA_PROVIDER_FILES);
      await assert.rejects(
        checkDevice('cuda', empty),
        (e: Error) =>
          e.name === 'DeviceUnavailableError' &&
          e.message.includes(
            `libonnxruntime_providers_shared.so, libonnxruntime_providers_cuda.so missing in ${empty}`,
          ) &&
          e.message.includes('bash infra/tools.sh install gpu') &&
          e.message.includes('--device cpu'),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('cuda on this machine: not installed, no driver/GPU, or a working session', async () => {
    const expected = cudaOutcome();
    if (expected === undefined) {
      await checkDevice('cuda');
    } else {
      await assert.rejects(checkDevice('cuda'), (e: Error) => expected.test(e.message));
    }
  });

  test("the gpu install's layout: both provider files or neither, linked into .tools/gpu, resolving all but the driver", async () => {
    const dir = ortNativeDir();
    const present = CUDA_PROVIDER_FILES.length - missingCudaProviderFiles(dir).length;
    if (!cudaProviderInstalled()) {
      assert.equal(present, 0, `half a gpu install in ${dir}: rerun bash infra/tools.sh install gpu`);
      return;
    }
    const tools = realpathSync(process.env.PURE_TOOLS_DIR ?? join(projectRoot, '.tools'));
    for (const file of CUDA_PROVIDER_FILES) {
      assert.ok(
        lstatSync(join(dir, file)).isSymbolicLink(),
        `${file} is a link made by tools.sh install gpu`,
      );
      assert.equal(realpathSync(join(dir, file)), join(tools, 'gpu', 'ort', 'onnxruntime', 'capi', file));
    }
    const { stdout } = await run('ldd', [join(dir, 'libonnxruntime_providers_cuda.so')]);
    const unresolved = stdout
      .split('\n')
      .filter((l) => l.includes('not found'))
      .map((l) => l.trim().split(/\s+/)[0]);
    // The driver's libcuda.so.1 comes from the machine: found only where there is a GPU.
    assert.deepEqual(unresolved, hasNvidiaGpu() ? [] : ['libcuda.so.1']);
    for (const lib of ['libcublasLt.so.13', 'libcublas.so.13', 'libcudart.so.13', 'libcurand.so.10']) {
      assert.match(stdout, new RegExp(`${lib.replaceAll('.', '\\.')} => ${tools}/gpu/cuda/nvidia/cu13/lib/`));
    }
  });
});

describe('cudaProbeFailure', () => {
  // onnxruntime's own wording, as its provider bridge and CUDA provider log it.
  const cases: [string, RegExp][] = [
    [
      'Failed to load library .../libonnxruntime_providers_cuda.so with error: libcuda.so.1: cannot open shared object file: No such file or directory',
      /^--device cuda: no NVIDIA driver\/GPU found: .*libcuda\.so\.1.*--device cpu$/,
    ],
    [
      'CUDA failure 100: no CUDA-capable device is detected ; GPU=0 ; hostname=x ; file=cuda_call.cc',
      /^--device cuda: no NVIDIA driver\/GPU found that CUDA 13 can use \(onnxruntime: CUDA failure 100: no CUDA-capable device is detected.*\)\. Check nvidia-smi.*--device cpu$/,
    ],
    [
      'CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version',
      /no NVIDIA driver\/GPU found that CUDA 13 can use .*driver version is insufficient/,
    ],
    [
      'with error: libcudnn.so.9: cannot open shared object file: No such file or directory',
      /cannot load libcudnn\.so\.9; run `bash infra\/tools\.sh install gpu`/,
    ],
    [
      'something else entirely\nlast line',
      /could not create a CUDA session \(something else entirely \| last line\)/,
    ],
  ];
  for (const [output, message] of cases) {
    test(output.slice(0, 60), () => assert.match(cudaProbeFailure(output), message));
  }
});
