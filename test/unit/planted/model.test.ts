/**
 * The planted model runs in onnxruntime and behaves as designed on generated images: detectors fire
 * on their feature only, OR neurons' top images come from their features, distractors follow the
 * nuisance, and the head classifies the features.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { SUPPORTED_OPS } from '../../../core/adapters/onnxruntime/attribution.js';
import {
  buildPlantedModel,
  FEATURE_SIZE,
  FEATURES,
  type Nuisance,
  type PlantedImageSpec,
  type PlantedTruth,
  plantedTruth,
} from '../../../core/adapters/planted/index.js';
import { decodeModel } from '../../../core/compute/onnx/model.js';
import { energy, zeroMeanPerChannel } from '../../../core/compute/planted/features.js';
import {
  channelMap,
  forwardPlanted,
  inputBatch,
  maxOf,
  meanOf,
  type PlantedForward,
  pearson,
  sessionOptions,
  topK,
  varianceExplainedByGroups,
} from './helpers.js';

const IMAGES_PER_FEATURE = 16;

function nuisanceValue(image: PlantedImageSpec, nuisance: Nuisance): number {
  switch (nuisance) {
    case 'brightness':
      return image.brightness;
    case 'warmth':
      return image.tint[0] - image.tint[2];
    case 'noise':
      return image.noise;
  }
}

describe('planted features', () => {
  test('every detector answers any other feature, at any offset, with under a third of its own response', () => {
    const k = FEATURE_SIZE;
    const plane = k * k;
    FEATURES.forEach((detector, f) => {
      const weights = zeroMeanPerChannel(detector.pattern);
      const own = energy(weights);
      FEATURES.forEach((other, g) => {
        if (f === g) return;
        let strongest = Number.NEGATIVE_INFINITY;
        for (let dy = 1 - k; dy < k; dy++) {
          for (let dx = 1 - k; dx < k; dx++) {
            let response = 0;
            for (let c = 0; c < 3; c++) {
              for (let y = Math.max(0, -dy); y < Math.min(k, k - dy); y++) {
                for (let x = Math.max(0, -dx); x < Math.min(k, k - dx); x++) {
                  response +=
                    weights[c * plane + y * k + x]! * other.pattern[c * plane + (y + dy) * k + x + dx]!;
                }
              }
            }
            strongest = Math.max(strongest, response);
          }
        }
        assert.ok(strongest < own / 3, `${detector.name} on ${other.name}: ${strongest} vs own ${own}`);
      });
    });
  });

  test('feature names are unique folder names', () => {
    const names = FEATURES.map((f) => f.name);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^[a-z]+(_[a-z]+)*$/);
  });
});

describe('planted model graph', () => {
  test('opset 17, NCHW input with a symbolic batch, logits per feature, only engine-supported ops', () => {
    const model = decodeModel(buildPlantedModel(32));
    assert.equal(Number(model.opsetImport[0]!.version), 17);
    const input = model.graph!.input![0]!;
    assert.equal(input.name, 'input');
    const dims = input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    assert.deepEqual(dims, ['N', 3, 32, 32]);
    assert.deepEqual(
      model.graph!.output!.map((o) => o.name),
      ['logits'],
    );
    const produced = model.graph!.node!.flatMap((n) => n.output ?? []);
    assert.ok(produced.includes('/lower/Relu_output_0'));
    assert.ok(produced.includes('/upper/Relu_output_0'));
    for (const node of model.graph!.node!) {
      assert.ok(
        SUPPORTED_OPS.includes(node.opType!),
        `${node.opType} is not supported by the attribution engine`,
      );
    }
  });

  test('the same bytes every time; the size only changes the input', () => {
    assert.deepEqual(buildPlantedModel(32), buildPlantedModel(32));
    assert.notDeepEqual(buildPlantedModel(32), buildPlantedModel(48));
  });

  test('rejects sizes the pooling cannot tile or a feature cannot fit', () => {
    for (const size of [15, 17, 14, 258, 31.5, Number.NaN]) {
      assert.throws(() => buildPlantedModel(size), /size must be an even integer from 16 to 256/);
    }
  });

  for (const size of [16, 48]) {
    test(`runs in onnxruntime at size ${size} with any batch size and classifies its features`, async () => {
      const truth = plantedTruth({ seed: 5, imagesPerFeature: 2, size });
      const session = await ort.InferenceSession.create(buildPlantedModel(size), sessionOptions());
      try {
        for (const images of [truth.images.slice(0, 1), truth.images]) {
          const input = new ort.Tensor('float32', inputBatch(truth, images), [images.length, 3, size, size]);
          const out = await session.run({ input });
          const logits = out.logits!;
          assert.deepEqual(logits.dims, [images.length, FEATURES.length]);
          images.forEach((image, i) => {
            const row = Array.from(
              (logits.data as Float32Array).subarray(i * FEATURES.length, (i + 1) * FEATURES.length),
            );
            assert.equal(row.indexOf(Math.max(...row)), image.feature, `${image.sampleId}: logits ${row}`);
          });
        }
      } finally {
        await session.release();
      }
    });
  }
});

describe('planted model on generated images', () => {
  let truth: PlantedTruth;
  let forward: PlantedForward;
  const features = (): number[] => truth.images.map((image) => image.feature);

  before(async () => {
    truth = plantedTruth({ seed: 11, imagesPerFeature: IMAGES_PER_FEATURE, size: 32 });
    forward = await forwardPlanted(truth, truth.images);
  });

  test('each detector fires on images of its feature and stays silent on all others', () => {
    for (const feature of truth.features) {
      const on: number[] = [];
      const off: number[] = [];
      truth.images.forEach((image, i) => {
        const peak = maxOf(channelMap(forward.lower, i, feature.lowerChannel));
        (image.feature === feature.id ? on : off).push(peak);
      });
      assert.equal(on.length, IMAGES_PER_FEATURE);
      assert.ok(Math.min(...on) > 0.2, `${feature.name}: weakest hit ${Math.min(...on)}`);
      assert.ok(
        meanOf(on) > 0.8 && meanOf(on) < 1.2,
        `${feature.name}: mean peak ${meanOf(on)} (designed: 1)`,
      );
      assert.equal(Math.max(...off), 0, `${feature.name} fired on another feature`);
    }
  });

  test('the head classifies every image by its feature', () => {
    const wrong = truth.images.filter((image, i) => {
      const row = Array.from(forward.logits.subarray(i * FEATURES.length, (i + 1) * FEATURES.length));
      return row.indexOf(Math.max(...row)) !== image.feature;
    });
    assert.deepEqual(
      wrong.map((w) => w.sampleId),
      [],
    );
  });

  test("feature neurons' top images come from their features only, every feature among them", () => {
    for (const neuron of truth.upperNeurons.filter((n) => n.kind !== 'distractor')) {
      const values = truth.images.map((_, i) => maxOf(channelMap(forward.upper, i, neuron.channel)));
      const k = Math.floor(0.75 * IMAGES_PER_FEATURE * neuron.features.length);
      const shown = topK(values, k).map((i) => truth.images[i]!.feature);
      for (const f of shown)
        assert.ok(neuron.features.includes(f), `${neuron.name}: top image of feature ${f}`);
      for (const f of neuron.features) {
        const count = shown.filter((s) => s === f).length;
        // Each feature's share is about 1/|features|: the detectors' peaks are equally distributed.
        assert.ok(
          count >= k / neuron.features.length / 2,
          `${neuron.name}: only ${count} of ${k} show feature ${f}`,
        );
      }
      // Images without its features leave the neuron at exactly 0.
      truth.images.forEach((image, i) => {
        if (!neuron.features.includes(image.feature))
          assert.equal(values[i], 0, `${neuron.name} on ${image.sampleId}`);
      });
    }
  });

  test('distractor channels (both layers) follow their nuisance variable, not the feature', () => {
    const checks = [
      ...truth.lowerChannels.flatMap((c) =>
        c.kind === 'distractor'
          ? [{ maps: forward.lower, channel: c.channel, name: c.name, nuisance: c.nuisance }]
          : [],
      ),
      ...truth.upperNeurons.flatMap((n) =>
        n.nuisance ? [{ maps: forward.upper, channel: n.channel, name: n.name, nuisance: n.nuisance }] : [],
      ),
    ];
    assert.equal(checks.length, 6);
    for (const check of checks) {
      const activation = truth.images.map((_, i) => meanOf(channelMap(check.maps, i, check.channel)));
      const nuisance = truth.images.map((image) => nuisanceValue(image, check.nuisance));
      const r = pearson(activation, nuisance);
      const byFeature = varianceExplainedByGroups(activation, features());
      assert.ok(r > 0.9, `${check.name}: correlation with ${check.nuisance} ${r}`);
      // 8 groups of 16 explain about 0.06 by chance; a red or blue disc adds a little local warmth.
      assert.ok(byFeature < 0.3, `${check.name}: the feature explains ${byFeature} of its variance`);
    }
  });

  test('distractor neurons dominate the mean activations of the upper layer (what the baseline clusters)', () => {
    const distractors = truth.upperNeurons.filter((n) => n.kind === 'distractor');
    const features_ = truth.upperNeurons.filter((n) => n.kind !== 'distractor');
    const spread = (channel: number) => {
      const values = truth.images.map((_, i) => meanOf(channelMap(forward.upper, i, channel)));
      const mean = meanOf(values);
      return Math.sqrt(meanOf(values.map((v) => (v - mean) ** 2)));
    };
    const weakestDistractor = Math.min(...distractors.map((n) => spread(n.channel)));
    const strongestFeature = Math.max(...features_.map((n) => spread(n.channel)));
    assert.ok(
      weakestDistractor > 20 * strongestFeature,
      `distractor spread ${weakestDistractor} vs feature neuron spread ${strongestFeature}`,
    );
  });
});
