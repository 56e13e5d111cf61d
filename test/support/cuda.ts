/**
 * What checkDevice('cuda') must say on this machine, decided without asking it: whether the gpu install
 * put the provider files next to onnxruntime-node's library (`bash infra/tools.sh install gpu`), and
 * whether the machine has an NVIDIA GPU (its driver's control device).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CUDA_PROVIDER_FILES, ortNativeDir } from '../../core/adapters/onnxruntime/device.js';

export const cudaProviderInstalled = (): boolean =>
  CUDA_PROVIDER_FILES.every((f) => existsSync(join(ortNativeDir(), f)));

export const hasNvidiaGpu = (): boolean => existsSync('/dev/nvidiactl');

/** The message checkDevice('cuda') fails with here, or undefined where it must succeed. */
export function cudaOutcome(): RegExp | undefined {
  if (!cudaProviderInstalled()) {
    return /CUDA provider is not installed \(.*missing in .*\); run `bash infra\/tools\.sh install gpu`.*--device cpu/;
  }
  if (!hasNvidiaGpu()) return /no NVIDIA driver\/GPU found.*--device cpu/;
  return undefined;
}
