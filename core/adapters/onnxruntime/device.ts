/**
 * Whether this machine can run onnxruntime sessions on a device, checked before a worker starts: a GPU
 * worker that cannot use its GPU fails at start with one message saying why and what to do, instead of
 * failing at its first activity or, worse, running on the CPU unnoticed.
 *
 * onnxruntime-node loads its CUDA provider (`bash infra/tools.sh install gpu` puts it there) from the
 * folder of its own libonnxruntime.so.1, and when that fails it throws only "Failed to load shared
 * library"; the reason (e.g. the driver's libcuda.so.1 missing) goes to its log on stderr. So the check
 * creates a one-node CUDA session in a child process (cuda-probe.ts) and reads the reason from the
 * child's output, which also keeps onnxruntime's log lines out of this process's output.
 */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Device } from './session.js';

/** The provider bridge and the CUDA provider, next to libonnxruntime.so.1. */
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

const INSTALL_HINT = 'run `bash infra/tools.sh install gpu` (again after every npm ci)';
const CPU_HINT = 'or use --device cpu';

/** The folder of onnxruntime-node's native binding and libonnxruntime.so.1 (as its dist/binding.js finds it). */
export function ortNativeDir(): string {
  const main = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** The CUDA provider files missing from onnxruntime-node's folder (a dangling link counts as missing). */
export function missingCudaProviderFiles(dir = ortNativeDir()): string[] {
  return CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(dir, f)));
}

/**
 * What a failed CUDA probe means for the user, from the probe's output (onnxruntime's error and log).
 * Exported for the tests: the no-driver case is what every machine without a GPU gives.
 */
export function cudaProbeFailure(output: string): string {
  const first = (re: RegExp) => re.exec(output)?.[0];
  if (/libcuda\.so\.1: cannot open shared object file/.test(output)) {
    return (
      '--device cuda: no NVIDIA driver/GPU found: the CUDA provider is installed, but the NVIDIA driver ' +
      'library libcuda.so.1 is not on this machine. Run GPU workers where nvidia-smi lists a GPU (driver ' +
      `>= 580 for CUDA 13; in containers via the NVIDIA container toolkit), ${CPU_HINT}`
    );
  }
  const noDevice = first(
    /[^\n]*(no CUDA-capable device|CUDA driver version is insufficient|cudaErrorNoDevice|cudaErrorInsufficientDriver|forward compatibility was attempted)[^\n]*/i,
  );
  if (noDevice) {
    return (
      `--device cuda: no NVIDIA driver/GPU found that CUDA 13 can use (onnxruntime: ${noDevice.trim()}). ` +
      `Check nvidia-smi (a GPU must be listed, driver >= 580), ${CPU_HINT}`
    );
  }
  const missingLib = /(lib[\w.+-]+\.so[\d.]*): cannot open shared object file/.exec(output)?.[1];
  if (missingLib) {
    return `--device cuda: the CUDA provider is installed but cannot load ${missingLib}; ${INSTALL_HINT}, ${CPU_HINT}`;
  }
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    `--device cuda: onnxruntime could not create a CUDA session (${lines.slice(-3).join(' | ') || 'no output'}); ` +
    `check nvidia-smi, ${CPU_HINT}`
  );
}

export class DeviceUnavailableError extends Error {
  override readonly name = 'DeviceUnavailableError';
}

const PROBE_SCRIPT = fileURLToPath(new URL('./cuda-probe.js', import.meta.url));
/** CUDA start-up (context, cuDNN, cuBLAS handles) takes seconds on a real GPU; a hang must still end. */
const PROBE_TIMEOUT_MS = 180_000;

function probeCuda(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [PROBE_SCRIPT],
      { timeout: PROBE_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve();
        const output = `${stdout}\n${stderr}`;
        reject(
          new DeviceUnavailableError(
            error.killed
              ? `--device cuda: creating a one-node CUDA session did not finish within ${PROBE_TIMEOUT_MS / 1000} s; check nvidia-smi, ${CPU_HINT}`
              : cudaProbeFailure(output),
          ),
        );
      },
    );
  });
}

let cudaChecked: Promise<void> | undefined;

/**
 * Resolves when sessions on `device` can run here, else rejects with a DeviceUnavailableError saying what
 * is missing and what to do. The CUDA probe runs once per process. `nativeDir`: where the provider files
 * are looked for (onnxruntime-node's folder; tests pass another).
 */
export function checkDevice(device: Device = 'cpu', nativeDir = ortNativeDir()): Promise<void> {
  if (device === 'cpu') return Promise.resolve();
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return Promise.reject(
      new DeviceUnavailableError(
        `--device cuda: GPU workers run on Linux x86_64 (the CUDA provider comes from PyPI's onnxruntime-gpu); this is ${process.platform}/${process.arch}; ${CPU_HINT}`,
      ),
    );
  }
  const missing = missingCudaProviderFiles(nativeDir);
  if (missing.length > 0) {
    return Promise.reject(
      new DeviceUnavailableError(
        `--device cuda: onnxruntime's CUDA provider is not installed (${missing.join(', ')} missing in ${nativeDir}); ${INSTALL_HINT}, ${CPU_HINT}`,
      ),
    );
  }
  cudaChecked ??= probeCuda();
  cudaChecked.catch(() => {
    cudaChecked = undefined;
  });
  return cudaChecked;
}
