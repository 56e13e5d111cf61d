import type { LayerInfo } from '../attribution/layers.js';

/**
 * `--layers auto`: the output of each stage, as the paper studies (the four ResNet stages). A stage is a
 * run of consecutive block (or Fire) outputs with the same channels and spatial size; its output is the
 * last of the run. A transformer's blocks all have one shape, so each block's output is picked, after
 * the token embedding that block 0's circuits start from. Falls back to all 4-D activations' stage
 * ends when a model has no recognised blocks.
 */
export function stageOutputs(layers: readonly LayerInfo[]): string[] {
  const blocks = layers.filter((l) => l.kind !== 'activation');
  const candidates = blocks.length > 0 ? blocks : layers;
  const shapeOf = (l: LayerInfo) => l.dims.slice(1).join('x');
  const everyOne = (l: LayerInfo) => l.kind === 'token-block' || l.kind === 'embedding';
  const picked: string[] = [];
  candidates.forEach((layer, i) => {
    const next = candidates[i + 1];
    if (everyOne(layer) || !next || shapeOf(next) !== shapeOf(layer)) picked.push(layer.name);
  });
  return picked;
}
