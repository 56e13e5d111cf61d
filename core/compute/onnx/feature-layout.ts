/**
 * Where a layer's neurons lie in its output tensor (docs/attribution.md, "Token neurons"). A CNN layer
 * [N, C, ...spatial] has its neurons on axis 1 and its positions on the spatial axes; a transformer
 * layer [N, T, D] (rank 3: a ViT block's token sequence, features last) has its neurons on the last axis
 * and its positions on the token axis. Rank 3 always means tokens: the model's input is an NCHW image,
 * so a rank-3 activation is a token sequence (ViT, DeiT, Swin, MLP-Mixer), not a 1-D convolution's map.
 * Every reader of a neuron (ActMax, the circuit seed and its sum over positions, the Activation
 * baseline's features, heatmap seeds, crops) takes its axes from here, so CNNs and ViTs share one path.
 */

export type FeatureKind = 'channels' | 'tokens';

/**
 * Which tokens of a token layer count as a neuron's positions (SweepConfig.tokens): 'all' (the
 * default), or 'patches', leaving out the leading tokens that belong to no patch (the class token and
 * any register tokens, leadingTokens). Channel layers have no such tokens and ignore it.
 */
export type TokenPositions = 'all' | 'patches';
export const TOKEN_POSITIONS: readonly TokenPositions[] = ['all', 'patches'];

/**
 * `{ tokens }` when set, `{}` otherwise: how a run's optional setting is passed on to the jobs and
 * models that take it as an optional field (exactOptionalPropertyTypes forbids `tokens: undefined`).
 */
export function tokensOption(tokens: TokenPositions | undefined): { readonly tokens?: TokenPositions } {
  return tokens ? { tokens } : {};
}

/**
 * The leading tokens of a sequence of T tokens that belong to no patch: T = extra + g^2 with
 * g = floor(sqrt(T)), the class token first and register tokens (DINOv2, timm) after it, then the g x g
 * patches row by row (torchvision, timm and DINOv2 order them so). Exact while extra < 2 g + 1.
 */
export function leadingTokens(tokens: number): number {
  if (!Number.isInteger(tokens) || tokens < 1) {
    throw new Error(`a token sequence needs a whole number of tokens >= 1, got ${tokens}`);
  }
  const grid = Math.floor(Math.sqrt(tokens));
  return tokens - grid * grid;
}

export interface FeatureLayout {
  readonly kind: FeatureKind;
  /** The axis of the neurons in the batched tensor (1 for channels, 2 for tokens). */
  readonly featureAxis: number;
  /** The axes a neuron's value is taken over (max for ActMax, sum for circuits): space or tokens. */
  readonly positionAxes: readonly number[];
}

/** The layout of a batched tensor [N, ...] of the given rank (>= 2). */
export function featureLayout(rank: number): FeatureLayout {
  if (!Number.isInteger(rank) || rank < 2) {
    throw new Error(`a layer's neurons need a tensor [N, C, ...] or [N, T, D]; got rank ${rank}`);
  }
  if (rank === 3) return { kind: 'tokens', featureAxis: 2, positionAxes: [1] };
  return {
    kind: 'channels',
    featureAxis: 1,
    positionAxes: Array.from({ length: rank - 2 }, (_, a) => a + 2),
  };
}

/**
 * Flat access to a row-major batched activation by (row, neuron, position): position p of neuron c in
 * row b is `data[base(b, c) + p * stride]`, positions numbered row-major over the position axes.
 */
export interface FeatureView {
  readonly layout: FeatureLayout;
  readonly rows: number;
  /** Neurons per row (channels C, or token features D). */
  readonly features: number;
  /** Positions per neuron (H x W, or tokens T). */
  readonly positions: number;
  /** Distance between two consecutive positions of one neuron. */
  readonly stride: number;
  base(row: number, feature: number): number;
}

export function featureView(dims: readonly number[]): FeatureView {
  const layout = featureLayout(dims.length);
  const rows = dims[0]!;
  const features = dims[layout.featureAxis]!;
  const positions = layout.positionAxes.reduce((n, a) => n * dims[a]!, 1);
  const perRow = features * positions;
  return layout.kind === 'tokens'
    ? { layout, rows, features, positions, stride: features, base: (b, c) => b * perRow + c }
    : { layout, rows, features, positions, stride: 1, base: (b, c) => b * perRow + c * positions };
}

/**
 * The first position of a neuron that counts: 0, except for token neurons with 'patches', where the
 * leading non-patch tokens (leadingTokens) are left out of its max, mean and seed.
 */
export function firstPosition(view: FeatureView, tokens: TokenPositions = 'all'): number {
  return view.layout.kind === 'tokens' && tokens === 'patches' ? leadingTokens(view.positions) : 0;
}

/** The neuron count of a layer from its dims with the batch ([N, ...], N may be symbolic). */
export function featureCount(dims: readonly (number | string)[]): number | undefined {
  const d = dims.length >= 2 ? dims[featureLayout(dims.length).featureAxis] : undefined;
  return typeof d === 'number' ? d : undefined;
}
