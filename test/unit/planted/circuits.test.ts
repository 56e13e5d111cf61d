/**
 * The planted split, checked without the pipeline: circuits computed by hand (formula, itself checked
 * by finite differences through onnxruntime) recover each polysemantic neuron's features with k-means
 * where the Activation baseline does not, and the automatic cluster count sees one cluster for each
 * monosemantic neuron. Last, the attribution engine's circuits equal the formula on this model.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  AttributionEngine,
  circuitVectors,
  lowerActivations,
  selectRows,
} from '../../../core/adapters/onnxruntime/attribution.js';
import {
  buildPlantedModel,
  type PlantedNeuronTruth,
  type PlantedTruth,
  plantedTruth,
  WEIGHT_NAMES,
} from '../../../core/adapters/planted/index.js';
import { adjustedRandIndex, chooseClusterCount, kmeans } from '../../../core/compute/clustering/index.js';
import { valueInfo } from '../../../core/compute/onnx/builders.js';
import { decodeModel, encodeModel } from '../../../core/compute/onnx/model.js';
import { tensor } from '../../../core/compute/onnx/tensor.js';
import {
  channelMap,
  circuitByFormula,
  forwardPlanted,
  inputBatch,
  maxOf,
  meanActivations,
  type PlantedForward,
  sessionOptions,
  topK,
  upperWeights,
} from './helpers.js';

const SIZE = 32;
const IMAGES_PER_FEATURE = 20;

/** The model from L' to L alone (MaxPool, Conv, Relu), to perturb a_L' directly. */
function lowerToUpperModel(truth: PlantedTruth, lowerDims: readonly number[]): Uint8Array {
  const model = decodeModel(buildPlantedModel(truth.size));
  const graph = model.graph!;
  graph.node = graph.node!.filter((n) => ['/pool/MaxPool', '/upper/Conv', '/upper/Relu'].includes(n.name!));
  assert.equal(graph.node.length, 3);
  assert.equal(graph.node[0]!.input![0], truth.layers.lower);
  graph.input = [valueInfo({ name: truth.layers.lower, dtype: 'float32', dims: ['N', ...lowerDims] })];
  graph.output = [valueInfo({ name: truth.layers.upper, dtype: 'float32' })];
  graph.initializer = graph.initializer!.filter(
    (t) => t.name === WEIGHT_NAMES.upperWeight || t.name === WEIGHT_NAMES.upperBias,
  );
  return encodeModel(model);
}

/** Reference images of a neuron: the k largest max-over-space activations. */
function references(
  forward: PlantedForward,
  truth: PlantedTruth,
  neuron: PlantedNeuronTruth,
  k: number,
): number[] {
  const values = truth.images.map((_, i) => maxOf(channelMap(forward.upper, i, neuron.channel)));
  return topK(values, k);
}

/** k = three quarters of the images of its features: enough to mix them, none of other features. */
function referenceCount(neuron: PlantedNeuronTruth): number {
  return Math.floor(0.75 * IMAGES_PER_FEATURE * Math.max(1, neuron.features.length));
}

describe('planted circuits', () => {
  let truth: PlantedTruth;
  let forward: PlantedForward;
  let weights: ReturnType<typeof upperWeights>;

  before(async () => {
    truth = plantedTruth({ seed: 7, imagesPerFeature: IMAGES_PER_FEATURE, size: SIZE });
    forward = await forwardPlanted(truth, truth.images);
    weights = upperWeights(SIZE);
  });

  test('the formula equals central finite differences of ReLU(a_c)-weighted a_L through onnxruntime', async () => {
    // R_j = d/dt sum_p g(p) a_c(a_L' with channel j scaled by 1 + t)(p) at t = 0, g = ReLU(a_c) fixed:
    // scaling channel j by (1 + t) moves a_L'_j along itself, so the derivative is the gradient dotted
    // with a_L'_j, i.e. gradient x activation summed over space.
    const { lower } = forward;
    const plane = lower.c * lower.h * lower.w;
    const channelPlane = lower.h * lower.w;
    const pairs: { image: number; neuron: number }[] = [];
    for (const neuron of truth.upperNeurons) {
      const picks = neuron.features.length > 0 ? neuron.features : [0, 5];
      for (const feature of picks) {
        const image = truth.images.findIndex((s) => s.feature === feature && s.index === 3);
        pairs.push({ image, neuron: neuron.channel });
      }
    }
    const epsilon = 1e-3;
    const rows = new Float32Array(pairs.length * lower.c * 2 * plane);
    pairs.forEach(({ image }, p) => {
      const base = lower.data.subarray(image * plane, (image + 1) * plane);
      for (let j = 0; j < lower.c; j++) {
        for (const [s, sign] of [
          [0, 1],
          [1, -1],
        ] as const) {
          const offset = ((p * lower.c + j) * 2 + s) * plane;
          rows.set(base, offset);
          for (let q = offset + j * channelPlane; q < offset + (j + 1) * channelPlane; q++) {
            rows[q] = rows[q]! * (1 + sign * epsilon);
          }
        }
      }
    });
    const session = await ort.InferenceSession.create(
      lowerToUpperModel(truth, [lower.c, lower.h, lower.w]),
      sessionOptions(),
    );
    let upper: Float32Array;
    try {
      const out = await session.run({
        [truth.layers.lower]: new ort.Tensor('float32', rows, [
          rows.length / plane,
          lower.c,
          lower.h,
          lower.w,
        ]),
      });
      upper = out[truth.layers.upper]!.data as Float32Array;
    } finally {
      await session.release();
    }
    const upperPlane = forward.upper.h * forward.upper.w;
    const upperRow = forward.upper.c * upperPlane;
    pairs.forEach(({ image, neuron }, p) => {
      const g = channelMap(forward.upper, image, neuron);
      const objective = (row: number) => {
        let sum = 0;
        const start = row * upperRow + neuron * upperPlane;
        for (let q = 0; q < upperPlane; q++) sum += g[q]! * upper[start + q]!;
        return sum;
      };
      const formula = circuitByFormula(forward, weights, image, neuron).raw;
      const scale = formula.reduce((s, r) => s + Math.abs(r), 0);
      assert.ok(scale > 0, `neuron ${neuron} is silent on image ${image}`);
      for (let j = 0; j < lower.c; j++) {
        const row = (p * lower.c + j) * 2;
        const finiteDifference = (objective(row) - objective(row + 1)) / (2 * epsilon);
        assert.ok(
          Math.abs(finiteDifference - formula[j]!) <= 2e-3 * scale,
          `neuron ${neuron}, image ${image}, channel ${j}: finite difference ${finiteDifference}, formula ${formula[j]}`,
        );
      }
    });
  });

  test('every circuit lies on the lower channels the truth names for its neuron', () => {
    for (const neuron of truth.upperNeurons) {
      for (const image of references(forward, truth, neuron, referenceCount(neuron))) {
        const { normalised } = circuitByFormula(forward, weights, image, neuron.channel);
        normalised.forEach((r, j) => {
          if (!neuron.lowerChannels.includes(j)) assert.equal(r, 0, `${neuron.name}: channel ${j} has ${r}`);
        });
      }
    }
  });

  test('k-means on circuits recovers the planted split (ARI >= 0.9); on the Activation baseline it does not (< 0.5)', (t) => {
    const polysemantic = truth.upperNeurons.filter((n) => n.kind === 'polysemantic');
    assert.equal(polysemantic.length, 3);
    for (const neuron of polysemantic) {
      const refs = references(forward, truth, neuron, referenceCount(neuron));
      const labels = refs.map((i) => truth.images[i]!.feature);
      const circuits = refs.map((i) =>
        Array.from(circuitByFormula(forward, weights, i, neuron.channel).normalised),
      );
      const baseline = refs.map((i) => Array.from(meanActivations(forward.upper, i)));
      const clusters = neuron.features.length;
      const pure = adjustedRandIndex(kmeans(circuits, clusters, { seed: 0 }).labels, labels);
      const activation = adjustedRandIndex(kmeans(baseline, clusters, { seed: 0 }).labels, labels);
      t.diagnostic(
        `${neuron.name}: k=${refs.length}, ARI PURE ${pure.toFixed(3)}, Activation ${activation.toFixed(3)}`,
      );
      assert.ok(pure >= 0.9, `${neuron.name}: PURE ARI ${pure}`);
      assert.ok(activation < 0.5, `${neuron.name}: Activation ARI ${activation}`);
    }
  });

  test('the automatic cluster count finds one cluster per monosemantic neuron and the planted count per OR', (t) => {
    for (const neuron of truth.upperNeurons.filter((n) => n.kind !== 'distractor')) {
      const refs = references(forward, truth, neuron, referenceCount(neuron));
      // float32, as the pipeline stores relevance vectors.
      const circuits = refs.map((i) =>
        Array.from(Float32Array.from(circuitByFormula(forward, weights, i, neuron.channel).normalised)),
      );
      const choice = chooseClusterCount(circuits, { seed: 0 });
      t.diagnostic(
        `${neuron.name}: ${choice.clusters} cluster(s), polysemanticity ${choice.polysemanticity.toFixed(3)}`,
      );
      assert.equal(choice.clusters, neuron.expectedClusters, neuron.name);
    }
  });
});

describe('planted model in the attribution engine', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'planted-engine-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  test("the engine's circuit vectors equal the formula for every neuron", async () => {
    const truth = plantedTruth({ seed: 3, imagesPerFeature: 3, size: SIZE });
    const modelPath = join(folder, 'model.onnx');
    await writeFile(modelPath, buildPlantedModel(SIZE));
    const engine = new AttributionEngine({ intraOpNumThreads: 1 });
    const cut = { model: modelPath, lower: truth.layers.lower, upper: truth.layers.upper };
    const images = tensor('float32', [truth.images.length, 3, SIZE, SIZE], inputBatch(truth, truth.images));
    const activations = await lowerActivations(engine, cut, images);
    const rows: number[] = [];
    const channels: number[] = [];
    truth.images.forEach((_, i) => {
      for (const neuron of truth.upperNeurons) {
        rows.push(i);
        channels.push(neuron.channel);
      }
    });
    const result = await circuitVectors(engine, cut, {
      lower: selectRows(activations.lower, rows),
      channels,
    });
    const forward = await forwardPlanted(truth, truth.images);
    const weights = upperWeights(SIZE);
    assert.equal(result.lowerChannels, truth.lowerChannels.length);
    rows.forEach((image, r) => {
      const expected = circuitByFormula(forward, weights, image, channels[r]!).normalised;
      expected.forEach((value, j) => {
        const actual = result.vectors[r * result.lowerChannels + j]!;
        assert.ok(
          Math.abs(actual - value) < 1e-5,
          `image ${image}, neuron ${channels[r]}, channel ${j}: ${actual} vs ${value}`,
        );
      });
    });
  });
});
