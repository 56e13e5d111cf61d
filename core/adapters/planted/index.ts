/**
 * Planted polysemanticity: a small ONNX model and images with known ground truth (docs/planted.md).
 * `generatePlanted` writes a self-contained demo; the pure builders serve tests.
 */
export {
  LAYER_NAMES,
  LOWER_CHANNELS,
  type LowerChannel,
  type NeuronKind,
  NUISANCES,
  type Nuisance,
  UPPER_NEURONS,
  type UpperNeuron,
} from '../../compute/planted/design.js';
export { FEATURE_SIZE, FEATURES, type FeatureDefinition } from '../../compute/planted/features.js';
export {
  NUISANCE_RANGES,
  type PlantedImageSpec,
  plantedImageSpec,
  plantedImageSpecs,
  renderPlantedImage,
} from '../../compute/planted/images.js';
export { buildPlantedModel, PLANTED_SIZES, WEIGHT_NAMES } from '../../compute/planted/model.js';
export {
  PLANTED_FILES,
  type PlantedFeatureTruth,
  type PlantedNeuronTruth,
  type PlantedParameters,
  type PlantedTruth,
  plantedTruth,
} from '../../compute/planted/truth.js';
export {
  encodePlantedImage,
  generatePlanted,
  PLANTED_DEFAULTS,
  type PlantedOptions,
  resolvePlantedParameters,
} from './generate.js';
