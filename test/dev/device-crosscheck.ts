/**
 * Circuit vectors on a device against the CPU's, for the same rows (test/support/device-crosscheck.ts):
 * every row's cosine must be >= 0.9999. scripts/gpu-check.sh runs it with --device cuda.
 *   node dist/test/dev/device-crosscheck.js [--device cuda|cpu] [--images 64] [--per-image 8] [--out file.json]
 * Exit 0 when every row agrees, 1 when one does not, 2 on a usage error. The numbers go to stdout and,
 * with --out, to a JSON file.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkDevice } from '../../core/adapters/onnxruntime/device.js';
import { DEVICES, type Device, executionProvidersFor } from '../../core/adapters/onnxruntime/session.js';
import { crosscheckDevices, RESNET20_CUT } from '../support/device-crosscheck.js';

const MIN_COSINE = 0.9999;

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'cuda' },
    images: { type: 'string', default: '64' },
    'per-image': { type: 'string', default: '8' },
    threads: { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});
const device = values.device as Device;
const images = Number(values.images);
const perImage = Number(values['per-image']);
const threads = Number(values.threads);
if (!DEVICES.includes(device) || !(images > 0) || !(perImage > 0) || !(threads >= 0)) {
  process.stderr.write(
    `usage: device-crosscheck.js [--device ${DEVICES.join('|')}] [--images N>0] [--per-image N>0] [--threads N>=0] [--out file.json]\n`,
  );
  process.exit(2);
}
await checkDevice(device);
const threadOption = threads > 0 ? { intraOpNumThreads: threads } : {};
const result = await crosscheckDevices(
  { ...threadOption, executionProviders: ['cpu'] },
  { ...threadOption, executionProviders: executionProvidersFor(device) },
  { images, perImage },
);
const ok = result.minCosine >= MIN_COSINE;
const summary = {
  check: `circuit vectors, cpu vs ${device}`,
  model: RESNET20_CUT.model,
  lower: RESNET20_CUT.lower,
  upper: RESNET20_CUT.upper,
  images,
  perImage,
  minCosineRequired: MIN_COSINE,
  ok,
  ...result,
};
console.log(
  `circuit vectors cpu vs ${device}: ${result.rows} rows (${images} images x ${perImage} channels), ` +
    `min cosine ${result.minCosine.toFixed(7)} (row ${result.worst.row}: image ${result.worst.image}, channel ${result.worst.channel}), ` +
    `mean ${result.meanCosine.toFixed(7)}, max |diff| ${result.maxAbsDiff.toExponential(2)}; ` +
    `cpu ${result.seconds.reference.toFixed(2)} s, ${device} ${result.seconds.candidate.toFixed(2)} s: ${ok ? 'OK' : `FAIL (< ${MIN_COSINE})`}`,
);
if (values.out) await writeFile(values.out, `${JSON.stringify(summary, null, 2)}\n`);
process.exit(ok ? 0 : 1);
