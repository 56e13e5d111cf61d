// Dev-only: runs an exported encoder (tools/export_encoder.py) with onnxruntime-node, the runtime
// `pure run --evaluator` uses, to show the file loads and runs there.
//
//   node test/dev/run-encoder.mjs MODEL.onnx [INPUT.bin [REFERENCE.bin]]
//
// INPUT.bin: float32 little-endian [N, 3, S, S] (N from its length, S from the model's input); without
// it a seeded random [2, 3, S, S] batch is used. REFERENCE.bin: float32 [N, D] from another runtime
// (test/dev/encoder_reference.py writes one with onnxruntime for Python); the max abs difference is
// printed. Prints one JSON line: output dims, a checksum (sum and sum of |x|) and the difference.
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

/** Deterministic uniform [-1, 1) numbers (mulberry32), so runs without INPUT.bin repeat. */
function randomBatch(length, seed) {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

function readFloat32(path) {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function main() {
  const [modelPath, inputPath, referencePath] = process.argv.slice(2);
  if (!modelPath) {
    console.error('usage: node test/dev/run-encoder.mjs MODEL.onnx [INPUT.bin [REFERENCE.bin]]');
    process.exit(2);
  }
  const started = performance.now();
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const loadMs = performance.now() - started;
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const declared = session.inputMetadata?.[0]?.shape ?? [];
  const side = typeof declared[3] === 'number' ? declared[3] : 224;
  const perImage = 3 * side * side;
  const data = inputPath ? readFloat32(inputPath) : randomBatch(2 * perImage, 1234);
  if (data.length % perImage !== 0)
    throw new Error(`${inputPath}: ${data.length} floats is not N x 3 x ${side}²`);
  const feeds = { [inputName]: new ort.Tensor('float32', data, [data.length / perImage, 3, side, side]) };
  const runStarted = performance.now();
  const output = (await session.run(feeds))[outputName];
  const runMs = performance.now() - runStarted;
  let sum = 0;
  let absSum = 0;
  for (const value of output.data) {
    sum += value;
    absSum += Math.abs(value);
  }
  const report = {
    model: modelPath,
    input: inputName,
    output: outputName,
    outputs: session.outputNames,
    dims: output.dims,
    sum,
    absSum,
    loadMs: Math.round(loadMs),
    runMs: Math.round(runMs),
  };
  if (referencePath) {
    const reference = readFloat32(referencePath);
    if (reference.length !== output.data.length) {
      throw new Error(`${referencePath}: ${reference.length} floats, output has ${output.data.length}`);
    }
    let maxAbsDiff = 0;
    for (let i = 0; i < reference.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(reference[i] - output.data[i]));
    }
    report.maxAbsDiffVsReference = maxAbsDiff;
  }
  console.log(JSON.stringify(report));
}

await main();
