/**
 * Token neurons (docs/attribution.md, "Token neurons") on the tiny torchvision ViT fixture: the feature
 * layout every neuron reader shares, ActMax over tokens, the Activation baseline over tokens, the layers
 * `--layers auto` picks, circuit vectors against float64 finite differences of the whole model in the
 * reference interpreter (gradient x activation summed over tokens), gradient x input heatmaps against
 * finite differences, and crops on the arg-max token's patch. With tokens 'patches' (SweepConfig.tokens)
 * the same, the class token left out of every neuron reader.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openDataset } from '../../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../../core/adapters/datasets/preprocess.js';
import { loadModel } from '../../../core/adapters/models/model-file.js';
import { AttributionEngine, heatmaps, listLayers } from '../../../core/adapters/onnxruntime/attribution.js';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import {
  featureLayout,
  featureView,
  firstPosition,
  leadingTokens,
} from '../../../core/compute/onnx/feature-layout.js';
import { graphOf } from '../../../core/compute/onnx/model.js';
import { type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { offerActivationBatch, TopKSelector } from '../../../core/compute/references/topk.js';
import { stageOutputs } from '../../../core/compute/run/layers.js';
import { embeddingCropInBox } from '../../../core/compute/visualisation/embedding-crop.js';
import { tokenPatchBox } from '../../../core/compute/visualisation/token-patch.js';
import { channelMax, computeCircuits, meanRelu } from '../../../core/stages/circuits.js';
import { computeCrops } from '../../../core/stages/crops.js';
import { circuitByFiniteDifferences } from '../../support/circuit-fd.js';
import { maxAbsDifference } from '../../support/differences.js';
import { evaluate } from '../../support/interpreter/index.js';
import { fixtureModel, sharedDataset } from '../../support/paths.js';
import { seededRandom } from '../../support/random.js';
import { referenceRowsOf } from '../../support/rows.js';

const VIT = fixtureModel('vit-tiny-cifar10.onnx');
const EMBEDDING = '/encoder/Add_output_0';
const BLOCK0 = '/encoder/layers/encoder_layer_0/Add_1_output_0';
const BLOCK1 = '/encoder/layers/encoder_layer_1/Add_1_output_0';
const TOKENS = 17;
const FEATURES = 32;
const engine = new AttributionEngine({ intraOpNumThreads: 1 });
after(() => engine.release());

/** [B, T, D] -> [B, D, T]: the same numbers with the features on axis 1, as a CNN lays out channels. */
function tokensToChannels(data: Float32Array, b: number, t: number, d: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < b; i++)
    for (let k = 0; k < t; k++)
      for (let c = 0; c < d; c++) out[(i * d + c) * t + k] = data[(i * t + k) * d + c]!;
  return out;
}

/** The tiny ViT's block-1 tokens of one image, in float64 by the reference interpreter. */
async function float64Block1(): Promise<(x: Float64Array) => Float64Array> {
  const graph = graphOf(await loadModel(VIT));
  return (x) =>
    evaluate(graph, { input: tensor('float64', [1, 3, 32, 32], x) }, [BLOCK1], { float64: true })[BLOCK1]!
      .data as Float64Array;
}

/**
 * sum(x * dF/dx) with the seed g = ReLU(a_L) on the neuron at the seeded tokens held fixed is the
 * derivative of g . a_L(x (1 + t)) at t = 0: a gradient x input heatmap must sum to it.
 */
function assertHeatSumsToDifferences(
  heat: Tensor,
  at: {
    readonly forward: (x: Float64Array) => Float64Array;
    readonly x: Float64Array;
    readonly a: Float64Array;
    readonly neuron: number;
    readonly seedAt: (token: number) => boolean;
  },
  region: string,
): void {
  const objective = (scale: number) => {
    const y = at.forward(at.x.map((v) => v * scale));
    let s = 0;
    for (let t = 0; t < TOKENS; t++) {
      const i = t * FEATURES + at.neuron;
      if (at.seedAt(t)) s += Math.max(0, at.a[i]!) * y[i]!;
    }
    return s;
  };
  const h = 1e-5;
  const expected = (objective(1 + h) - objective(1 - h)) / (2 * h);
  const total = (heat.data as Float32Array).reduce((s, v) => s + v, 0);
  assert.ok(
    Math.abs(total - expected) < 1e-3 * Math.max(1, Math.abs(expected)),
    `${region}: sum of heat ${total} vs ${expected}`,
  );
}

describe('feature layout', () => {
  test('rank 3 is tokens (features last, positions = tokens); other ranks are channels on axis 1', () => {
    assert.deepEqual(featureLayout(3), { kind: 'tokens', featureAxis: 2, positionAxes: [1] });
    assert.deepEqual(featureLayout(4), { kind: 'channels', featureAxis: 1, positionAxes: [2, 3] });
    assert.deepEqual(featureLayout(2), { kind: 'channels', featureAxis: 1, positionAxes: [] });
    assert.throws(() => featureLayout(1), /rank 1/);
    const tokens = featureView([2, 5, 3]);
    assert.deepEqual([tokens.features, tokens.positions, tokens.stride, tokens.base(1, 2)], [3, 5, 3, 17]);
    const maps = featureView([2, 3, 2, 2]);
    assert.deepEqual([maps.features, maps.positions, maps.stride, maps.base(1, 2)], [3, 4, 1, 20]);
  });

  test('ActMax, baseline features and neuron values over tokens equal the channel path on the transposed data', () => {
    const [b, t, d] = [3, 5, 4];
    const rand = seededRandom(3);
    const data = Float32Array.from({ length: b * t * d }, () => rand() * 2 - 1);
    const asChannels = tokensToChannels(data, b, t, d);
    const tokenSelectors = Array.from({ length: d }, () => new TopKSelector(2));
    const channelSelectors = Array.from({ length: d }, () => new TopKSelector(2));
    offerActivationBatch(tokenSelectors, [b, t, d], data, [7, 8, 9]);
    // [B, D, 1, T]: a 1 x T map per channel, so (h, w) = (0, token) as the token layout records it.
    offerActivationBatch(channelSelectors, [b, d, 1, t], asChannels, [7, 8, 9]);
    for (let c = 0; c < d; c++) assert.deepEqual(tokenSelectors[c]!.sorted(), channelSelectors[c]!.sorted());
    const tokensTensor = tensor('float32', [b, t, d], data);
    const channelsTensor = tensor('float32', [b, d, 1, t], asChannels);
    for (let row = 0; row < b; row++) {
      assert.deepEqual(meanRelu(tokensTensor, row), meanRelu(channelsTensor, row));
      for (let c = 0; c < d; c++)
        assert.equal(channelMax(tokensTensor, row, c), channelMax(channelsTensor, row, c));
    }
  });
});

describe("tokens 'patches': the leading non-patch tokens left out", () => {
  test('leading tokens: T - floor(sqrt T)^2 (class token, registers); none for channel layers', () => {
    assert.deepEqual(
      [17, 197, 261, 16, 2].map((t) => leadingTokens(t)),
      [1, 1, 5, 0, 1],
    );
    assert.equal(firstPosition(featureView([1, 17, 4]), 'patches'), 1);
    assert.equal(firstPosition(featureView([1, 17, 4]), 'all'), 0);
    assert.equal(firstPosition(featureView([1, 17, 2, 2]), 'patches'), 0);
    assert.throws(() => leadingTokens(0), /whole number of tokens >= 1, got 0/);
  });

  test('ActMax, baseline features and neuron values: the class token is never the max, nor in the mean', () => {
    const [b, t, d] = [3, 5, 4];
    const rand = seededRandom(5);
    const data = Float32Array.from({ length: b * t * d }, () => rand() * 2 - 1);
    // The class token (token 0) is every neuron's largest value on every image.
    for (let i = 0; i < b; i++) for (let c = 0; c < d; c++) data[i * t * d + c] = 5 + c;
    const all = Array.from({ length: d }, () => new TopKSelector(3));
    const patches = Array.from({ length: d }, () => new TopKSelector(3));
    offerActivationBatch(all, [b, t, d], data, [7, 8, 9]);
    offerActivationBatch(patches, [b, t, d], data, [7, 8, 9], 'patches');
    const tokensTensor = tensor('float32', [b, t, d], data);
    for (let c = 0; c < d; c++) {
      assert.ok(all[c]!.sorted().every((r) => r.w === 0 && r.value === 5 + c));
      // Direct: max and first arg-max over tokens 1..t-1, and the mean of ReLU over them.
      const expected = [0, 1, 2].map((row) => {
        let arg = 1;
        for (let k = 2; k < t; k++)
          if (data[(row * t + k) * d + c]! > data[(row * t + arg) * d + c]!) arg = k;
        return { value: data[(row * t + arg) * d + c]!, sampleIndex: 7 + row, h: 0, w: arg };
      });
      expected.sort((x, y) => y.value - x.value);
      assert.deepEqual(patches[c]!.sorted(), expected);
      for (let row = 0; row < b; row++) {
        assert.equal(
          channelMax(tokensTensor, row, c, 'patches'),
          expected.find((e) => e.sampleIndex === 7 + row)!.value,
        );
        let sum = 0;
        for (let k = 1; k < t; k++) sum += Math.max(0, data[(row * t + k) * d + c]!);
        assert.ok(Math.abs(meanRelu(tokensTensor, row, 'patches')[c]! - sum / (t - 1)) < 1e-6);
      }
    }
    // A channel layer has no class token: 'patches' changes nothing there.
    const asChannels = tokensToChannels(data, b, t, d);
    const channelAll = Array.from({ length: d }, () => new TopKSelector(3));
    const channelPatches = Array.from({ length: d }, () => new TopKSelector(3));
    offerActivationBatch(channelAll, [b, d, 1, t], asChannels, [7, 8, 9]);
    offerActivationBatch(channelPatches, [b, d, 1, t], asChannels, [7, 8, 9], 'patches');
    for (let c = 0; c < d; c++) assert.deepEqual(channelPatches[c]!.sorted(), channelAll[c]!.sorted());
    const channelsTensor = tensor('float32', [b, d, 1, t], asChannels);
    assert.deepEqual(meanRelu(channelsTensor, 1, 'patches'), meanRelu(channelsTensor, 1));
  });
});

describe('token patches', () => {
  test('leading tokens (class, registers) are the whole image; patch tokens their patch, row by row', () => {
    assert.deepEqual(tokenPatchBox(0, 17, 32), { x0: 0, y0: 0, x1: 32, y1: 32 });
    assert.deepEqual(tokenPatchBox(1, 17, 32), { x0: 0, y0: 0, x1: 8, y1: 8 });
    assert.deepEqual(tokenPatchBox(6, 17, 32), { x0: 8, y0: 8, x1: 16, y1: 16 });
    assert.deepEqual(tokenPatchBox(16, 17, 32), { x0: 24, y0: 24, x1: 32, y1: 32 });
    // ViT-B/16 at 224: 1 + 14 x 14 tokens; DINOv2 with 4 registers at 224/14: 5 + 16 x 16.
    assert.deepEqual(tokenPatchBox(197 - 1, 197, 224), { x0: 208, y0: 208, x1: 224, y1: 224 });
    assert.deepEqual(tokenPatchBox(4, 261, 224), { x0: 0, y0: 0, x1: 224, y1: 224 });
    assert.deepEqual(tokenPatchBox(5 + 17, 261, 224), { x0: 14, y0: 14, x1: 28, y1: 28 });
    assert.throws(() => tokenPatchBox(17, 17, 32), /outside a sequence of 17 tokens/);
  });

  test('a fixed box keeps the heat measures and the whole-image fall-backs', () => {
    assert.equal(
      embeddingCropInBox(new Float64Array(64).fill(1), 8, 8, { x0: 0, y0: 0, x1: 8, y1: 8 }).cropped,
      false,
    );
    const plane = new Float64Array(16 * 16);
    plane[4 * 16 + 4] = 1;
    const inside = embeddingCropInBox(plane, 16, 16, { x0: 0, y0: 0, x1: 8, y1: 8 });
    assert.deepEqual([inside.x0, inside.y0, inside.x1, inside.y1, inside.cropped], [0, 0, 8, 8, true]);
    assert.ok(inside.heatInside > 0.99 && inside.heatMax > 0);
    // No visible heat in the box: the whole image, as the authors fall back.
    const away = embeddingCropInBox(plane, 16, 16, { x0: 8, y0: 8, x1: 16, y1: 16 });
    assert.deepEqual([away.x0, away.x1, away.cropped, away.heatInside], [0, 16, false, 1]);
    assert.throws(() => embeddingCropInBox(plane, 16, 16, { x0: 8, y0: 8, x1: 17, y1: 16 }), /outside/);
  });
});

describe('tiny ViT', () => {
  test('pure layers: the token embedding, then each block output; --layers auto picks all three', async () => {
    const layers = await listLayers(VIT);
    const tokenLayers = layers.filter((l) => l.kind !== 'activation');
    assert.deepEqual(
      tokenLayers.map((l) => [l.name, l.kind, l.channels, l.dims.join('x')]),
      [
        [EMBEDDING, 'embedding', FEATURES, `Nx${TOKENS}x${FEATURES}`],
        [BLOCK0, 'token-block', FEATURES, `Nx${TOKENS}x${FEATURES}`],
        [BLOCK1, 'token-block', FEATURES, `Nx${TOKENS}x${FEATURES}`],
      ],
    );
    assert.deepEqual(stageOutputs(layers), [EMBEDDING, BLOCK0, BLOCK1]);
  });

  const dataset = openDataset(sharedDataset('cifar10-test'));
  const referencesOf = async (layer: string, neurons: readonly number[], ids: readonly string[]) => {
    const samples = (await dataset.listSamples()).filter((s) => ids.includes(s.sampleId));
    // A token position per rank: token 0 (the class token) for the first, patches after.
    return referenceRowsOf(layer, neurons, samples, (rank) => (rank === 0 ? 0 : 5 + rank));
  };
  const imageOf = async (sampleId: string) =>
    preprocessImage(await dataset.readSample(sampleId), PREPROCESS_PRESETS.cifar10);

  for (const [lower, upper] of [
    [EMBEDDING, BLOCK0],
    [BLOCK0, BLOCK1],
  ] as const) {
    test(`circuits ${lower} -> ${upper}: gradient x activation summed over tokens = float64 finite differences`, async () => {
      const references = await referencesOf(upper, [3, 20], ['cat/0000.jpg', 'ship/0003.jpg']);
      const result = await computeCircuits({
        engine,
        modelPath: VIT,
        lowerLayer: lower,
        upperLayer: upper,
        references,
        dataset,
        preprocess: PREPROCESS_PRESETS.cifar10,
      });
      assert.equal(result.relevance.length, 4);
      for (const row of result.relevance) {
        assert.equal(row.relevance.length, FEATURES);
        const fd = await circuitByFiniteDifferences(
          VIT,
          'input',
          lower,
          upper,
          await imageOf(row.sampleId),
          [3, 32, 32],
          row.neuron,
        );
        const worst = maxAbsDifference(fd.relevance, row.relevance);
        assert.ok(worst < 1e-3, `neuron ${row.neuron} on ${row.sampleId}: max |R - R_fd| = ${worst}`);
        assert.ok(Math.abs(row.relevance.reduce((s, v) => s + Math.abs(v), 0) - 1) < 1e-5);
        // The baseline's features: mean over the 17 tokens of ReLU(a_L), every feature, from float64.
        const upperData = fd.upper.data as Float64Array;
        const features = result.features.find((f) => f.sampleIndex === row.sampleIndex)!.features;
        for (let c = 0; c < FEATURES; c++) {
          let sum = 0;
          for (let t = 0; t < TOKENS; t++) sum += Math.max(0, upperData[t * FEATURES + c]!);
          assert.ok(Math.abs(features[c]! - sum / TOKENS) < 1e-4 * Math.max(1, sum / TOKENS), `feature ${c}`);
        }
      }
    });
  }

  test('gradient x input heatmaps of a token neuron (all tokens, arg-max token) sum to finite differences', async () => {
    const image = await imageOf('frog/0007.jpg');
    const forward = await float64Block1();
    const x = Float64Array.from(image);
    const a = forward(x);
    const neuron = 11;
    let argmax = 0;
    for (let t = 1; t < TOKENS; t++)
      if (a[t * FEATURES + neuron]! > a[argmax * FEATURES + neuron]!) argmax = t;
    for (const region of ['map', 'argmax'] as const) {
      const { heat, tokens } = await heatmaps(
        engine,
        { model: VIT, layer: BLOCK1 },
        { images: tensor('float32', [1, 3, 32, 32], image), channels: [neuron] },
        { composite: 'gradient', region },
      );
      assert.equal(tokens, TOKENS);
      // sum(x * dF/dx) with g = ReLU(a_L) on the neuron (at the arg-max token only) held fixed is the
      // derivative of g . a_L(x (1 + t)) at t = 0.
      const seedAt = (t: number) => region === 'map' || t === argmax;
      assertHeatSumsToDifferences(heat, { forward, x, a, neuron, seedAt }, region);
    }
  });

  test("circuits with tokens 'patches': the seed is zero at the class token = finite differences so seeded", async () => {
    // Neuron 1 fires most at the class token on ship/0003 (both blocks), so the option matters there.
    const references = await referencesOf(BLOCK1, [1, 20], ['cat/0000.jpg', 'ship/0003.jpg']);
    const result = await computeCircuits({
      engine,
      modelPath: VIT,
      lowerLayer: BLOCK0,
      upperLayer: BLOCK1,
      references,
      dataset,
      preprocess: PREPROCESS_PRESETS.cifar10,
      tokens: 'patches',
    });
    assert.equal(result.relevance.length, 4);
    let changed = 0;
    for (const row of result.relevance) {
      const fd = (tokens: 'all' | 'patches') =>
        imageOf(row.sampleId).then((image) =>
          circuitByFiniteDifferences(VIT, 'input', BLOCK0, BLOCK1, image, [3, 32, 32], row.neuron, tokens),
        );
      const patches = await fd('patches');
      const worst = maxAbsDifference(patches.relevance, row.relevance);
      assert.ok(worst < 1e-3, `neuron ${row.neuron} on ${row.sampleId}: max |R - R_fd| = ${worst}`);
      const all = await fd('all');
      if (maxAbsDifference(all.relevance, row.relevance) > 1e-2) changed++;
      // The baseline's features: mean over the 16 patch tokens of ReLU(a_L).
      const upperData = patches.upper.data as Float64Array;
      const features = result.features.find((f) => f.sampleIndex === row.sampleIndex)!.features;
      for (let c = 0; c < FEATURES; c++) {
        let sum = 0;
        for (let t = 1; t < TOKENS; t++) sum += Math.max(0, upperData[t * FEATURES + c]!);
        const mean = sum / (TOKENS - 1);
        assert.ok(Math.abs(features[c]! - mean) < 1e-4 * Math.max(1, mean), `feature ${c}`);
      }
    }
    assert.ok(changed > 0, 'leaving the class token out of the seed changes some circuit');
  });

  test("heatmaps with tokens 'patches': no seed at the class token, the arg-max over patches", async () => {
    const image = await imageOf('ship/0003.jpg');
    const forward = await float64Block1();
    const x = Float64Array.from(image);
    const a = forward(x);
    const neuron = 1;
    let argmaxAll = 0;
    let argmaxPatches = 1;
    for (let t = 1; t < TOKENS; t++) {
      if (a[t * FEATURES + neuron]! > a[argmaxAll * FEATURES + neuron]!) argmaxAll = t;
      if (a[t * FEATURES + neuron]! > a[argmaxPatches * FEATURES + neuron]!) argmaxPatches = t;
    }
    assert.equal(argmaxAll, 0, 'the class token is where this neuron fires most (what the test relies on)');
    for (const region of ['map', 'argmax'] as const) {
      const { heat, initialRelevance } = await heatmaps(
        engine,
        { model: VIT, layer: BLOCK1 },
        { images: tensor('float32', [1, 3, 32, 32], image), channels: [neuron] },
        { composite: 'gradient', region, tokens: 'patches' },
      );
      const seedAt = (t: number) => t >= 1 && (region === 'map' || t === argmaxPatches);
      let seedTotal = 0;
      for (let t = 0; t < TOKENS; t++) if (seedAt(t)) seedTotal += Math.max(0, a[t * FEATURES + neuron]!);
      assert.ok(Math.abs(initialRelevance[0]! - seedTotal) < 1e-4 * Math.max(1, seedTotal), `${region} seed`);
      assertHeatSumsToDifferences(heat, { forward, x, a, neuron, seedAt }, region);
    }
  });

  test('crops: the patch of the arg-max token, the whole image for the class token', async () => {
    const references = await referencesOf(BLOCK1, [4], ['cat/0000.jpg', 'ship/0003.jpg', 'frog/0007.jpg']);
    const crops = await computeCrops({
      engine,
      modelPath: VIT,
      layer: BLOCK1,
      references,
      dataset,
      preprocess: PREPROCESS_PRESETS.cifar10,
    });
    assert.equal(crops.length, 3);
    for (const crop of crops) {
      const reference = references.find((r) => r.rank === crop.rank)!;
      const box = tokenPatchBox(reference.w, TOKENS, 32);
      if (reference.w === 0) {
        assert.deepEqual([crop.x0, crop.y0, crop.x1, crop.y1, crop.cropped], [0, 0, 32, 32, 0]);
      } else {
        assert.deepEqual([crop.x0, crop.y0, crop.x1, crop.y1], [box.x0, box.y0, box.x1, box.y1]);
        assert.equal(crop.x1 - crop.x0, 8);
        assert.equal(crop.cropped, 1);
        assert.ok(crop.heatInside > 0 && crop.heatInside < 1, `heat inside ${crop.heatInside}`);
      }
      assert.ok(crop.heatMax > 0);
    }
  });
});
