/**
 * The backward rule table: one entry per ONNX op type, each giving the op's adjoint as ONNX nodes,
 * one formula per input. Inputs without a gradient say so explicitly:
 *   - `none`: the input is not differentiable (indices, shapes, axes, ratios);
 *   - `unsupported`: differentiable in principle but not implemented (e.g. a Conv's weights); the
 *     walker fails if such an input lies on a path it must differentiate, never a silent zero.
 * Three kinds of rule:
 *   - `linear`: the op is linear in its differentiable inputs; the entry gives the transpose.
 *   - `elementwise`: the entry gives the local derivative d out / d input_k; the walker multiplies
 *     it with the output gradient and sums broadcast axes back to the input's shape.
 *   - `adjoint`: anything else; the entry gives the full vector-Jacobian product.
 * To add an op: one entry here and one row in test/unit/attribution/rules.test.ts.
 */

import type { Dim } from '../../adapters/onnxruntime/shapes.js';
import { attrFloat, attrInt, attrInts, attrString } from '../onnx/attributes.js';
import { GraphIndex, type NodeProto } from '../onnx/model.js';
import { type Tensor, toNumbers } from '../onnx/tensor.js';
import { type Emitter, emitWithAttributes, FLOAT } from './emitter.js';
import { parseAutoPad, poolDivisors, transposeGeometry, type WindowSpec } from './geometry.js';

/** What a rule may ask about the forward node it differentiates. */
export interface AdjointContext {
  readonly node: NodeProto;
  readonly emit: Emitter;
  readonly opset: number;
  /** Forward tensor names (the forward values are available in the backward graph). */
  input(k: number): string;
  output(k: number): string;
  hasInput(k: number): boolean;
  /** The gradient arriving at output k, zeros when nothing reached it. */
  gradOutput(k?: number): string;
  /**
   * When the gradient arriving at output 0 is known to be zero outside one channel (axis 1) per row,
   * the int64 [B] tensor holding that channel; otherwise undefined. Circuits and gradient heatmaps seed
   * one channel of L, and per-channel ops keep it so (see `channelwise`), which lets a 1x1 Conv's
   * adjoint read one row of its weights instead of all of them.
   */
  gradChannel(): string | undefined;
  /** Probed dims of a forward tensor; `'N'` follows the batch. */
  dims(name: string): readonly Dim[];
  /** A dimension that must be fixed for this rule (fails, naming the node, when it follows the batch). */
  fixedDim(name: string, axis: number): number;
  /** The value of a constant input (an initializer), or undefined when it is computed at run time. */
  constant(name: string): Tensor | undefined;
  /** Sum `grad` (of shape `gradDims`) over broadcast axes down to the shape of input k. */
  sumToInput(grad: string, gradDims: readonly Dim[], k: number): string;
  /** An error that names the node and op. */
  fail(message: string): Error;
}

export type Formula = (ctx: AdjointContext) => string;
/** The local derivative as a tensor name, or the constants 1 and -1 (no multiply emitted). */
export type LocalDerivative = (ctx: AdjointContext) => string | 1 | -1;
export interface NoGradient {
  readonly gradient: 'none';
  readonly why: string;
}
export interface NotImplemented {
  readonly gradient: 'unsupported';
  readonly why: string;
}
export type Slot<F> = F | NoGradient | NotImplemented;

export type BackwardRule = (
  | { readonly kind: 'linear'; readonly transpose: (node: NodeProto) => readonly Slot<Formula>[] }
  | {
      readonly kind: 'elementwise';
      readonly derivative: (node: NodeProto) => readonly Slot<LocalDerivative>[];
    }
  | { readonly kind: 'adjoint'; readonly adjoint: (node: NodeProto) => readonly Slot<Formula>[] }
) & {
  /**
   * Input 0's gradient is zero on every (row, channel) where the output gradient is: a per-channel
   * op (BatchNormalization, Identity). Elementwise rules need no flag: the walker checks their
   * shapes. Used only to know when `gradChannel` holds.
   */
  readonly channelwise?: true;
};

export type RuleKind = BackwardRule['kind'];

export const none = (why: string): NoGradient => ({ gradient: 'none', why });
export const unsupported = (why: string): NotImplemented => ({ gradient: 'unsupported', why });

const PARAMETER = unsupported('a model parameter: attribution differentiates activations only');
const SHAPE_INPUT = none('a shape or index input (integer valued)');

/** The slots of a rule for one node, whatever its kind. */
export function slotsOf(rule: BackwardRule, node: NodeProto): readonly Slot<Formula | LocalDerivative>[] {
  switch (rule.kind) {
    case 'linear':
      return rule.transpose(node);
    case 'elementwise':
      return rule.derivative(node);
    case 'adjoint':
      return rule.adjoint(node);
    default: {
      const never: never = rule;
      throw new Error(`unknown rule kind ${JSON.stringify(never)}`);
    }
  }
}

export function isGradientSlot<F>(slot: Slot<F> | undefined): slot is F {
  return typeof slot === 'function';
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by several entries.

function rankOf(ctx: AdjointContext, name: string): number {
  return ctx.dims(name).length;
}

function normaliseAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Gradient reshaped back to the forward input's run-time shape (Reshape, Flatten, Squeeze...). */
const reshapeBack: Formula = (ctx) =>
  ctx.emit.op('Reshape', [ctx.gradOutput(), ctx.emit.op('Shape', [ctx.input(0)])]);

function constantInts(ctx: AdjointContext, k: number, what: string): number[] | undefined {
  if (!ctx.hasInput(k)) return undefined;
  const value = ctx.constant(ctx.input(k));
  if (!value) throw ctx.fail(`${what} (input ${k}) must be a constant to differentiate`);
  return toNumbers(value);
}

function windowSpec(ctx: AdjointContext, kernel: readonly number[]): WindowSpec {
  const node = ctx.node;
  const rank = kernel.length;
  return {
    kernel,
    strides: attrInts(node, 'strides', new Array<number>(rank).fill(1)),
    dilations: attrInts(node, 'dilations', new Array<number>(rank).fill(1)),
    autoPad: parseAutoPad(attrString(node, 'auto_pad', 'NOTSET'), GraphIndex.describe(node)),
    pads: attrInts(node, 'pads', new Array<number>(2 * rank).fill(0)),
  };
}

function spatialSizes(ctx: AdjointContext, name: string): number[] {
  const rank = rankOf(ctx, name);
  return Array.from({ length: rank - 2 }, (_, a) => ctx.fixedDim(name, a + 2));
}

/** The adjoint of a window op that is a (grouped) convolution with weights `weights`. */
function convTranspose(
  ctx: AdjointContext,
  grad: string,
  weights: string,
  spec: WindowSpec,
  group: number,
): string {
  const inSizes = spatialSizes(ctx, ctx.input(0));
  const outSizes = spatialSizes(ctx, ctx.output(0));
  const { pads, outputPadding } = transposeGeometry(spec, inSizes, outSizes);
  return ctx.emit.op('ConvTranspose', [grad, weights], {
    kernel_shape: spec.kernel,
    strides: spec.strides,
    dilations: spec.dilations,
    pads,
    output_padding: outputPadding,
    group,
  });
}

/**
 * The input gradient of a stride-1, undilated, ungrouped convolution with constant weights, as a
 * convolution with the weights transposed [C, M, k...] and flipped, padded by k - 1 - pad: the
 * same numbers as ConvTranspose, measured 1.5x faster for 3x3 on onnxruntime's CPU provider.
 */
function flippedConv(
  ctx: AdjointContext,
  weights: string,
  spec: WindowSpec,
  group: number,
): string | undefined {
  const value = ctx.constant(weights);
  const unit = (v: readonly number[]) => v.every((x) => x === 1);
  if (value?.dtype !== 'float32' || group !== 1 || !unit(spec.strides) || !unit(spec.dilations)) {
    return undefined;
  }
  const inSizes = spatialSizes(ctx, ctx.input(0));
  const outSizes = spatialSizes(ctx, ctx.output(0));
  const { pads, outputPadding } = transposeGeometry(spec, inSizes, outSizes);
  if (outputPadding.some((p) => p !== 0)) return undefined;
  const [m, c, ...kernel] = value.dims as [number, number, ...number[]];
  const rank = kernel.length;
  const pads2 = pads.map((p, i) => kernel[i % rank]! - 1 - p);
  if (pads2.some((p) => p < 0)) return undefined;
  const area = kernel.reduce((a, b) => a * b, 1);
  const src = value.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let o = 0; o < m; o++) {
    for (let i = 0; i < c; i++) {
      const from = (o * c + i) * area;
      const to = (i * m + o) * area;
      for (let p = 0; p < area; p++) out[to + area - 1 - p] = src[from + p]!;
    }
  }
  return ctx.emit.op('Conv', [ctx.gradOutput(), ctx.emit.float(out, [c, m, ...kernel])], {
    kernel_shape: kernel,
    pads: pads2,
  });
}

/**
 * The input gradient of a 1x1, ungrouped convolution with constant weights W [M, C, 1...] when the
 * output gradient g is zero outside channel c_b of each row b (`gradChannel`): dx_b = g_b,c_b (x)
 * W[c_b, :], an outer product with one gathered row of W, instead of a transposed convolution over
 * all M channels. Strides and pads are then applied by a depthwise ConvTranspose with unit weights
 * (a scatter onto the input grid). In a ResNet-50 bottleneck the last 1x1 conv and the downsample
 * take this path (their M = 4x the inner width).
 */
function oneChannelPointwiseConv(
  ctx: AdjointContext,
  weights: string,
  spec: WindowSpec,
  group: number,
): string | undefined {
  const channel = ctx.gradChannel();
  const value = ctx.constant(weights);
  if (!channel || value?.dtype !== 'float32' || group !== 1 || spec.kernel.some((k) => k !== 1)) {
    return undefined;
  }
  const [m, c] = value.dims as [number, number];
  const e = ctx.emit;
  const rank = rankOf(ctx, ctx.input(0));
  const spatialAxes = Array.from({ length: rank - 2 }, (_, a) => a + 2);
  const rows = e.op('Gather', [e.float(value.data as Float32Array, [m, c]), channel], { axis: 0 });
  const gathered = e.op('Unsqueeze', [rows, e.int64(spatialAxes)]);
  const onlyChannel = e.op('ReduceSum', [ctx.gradOutput(), e.int64([1])], { keepdims: 1 });
  const dense = e.op('Mul', [onlyChannel, gathered]);
  const unit = (v: readonly number[]) => v.every((x) => x === 1);
  const inSizes = spatialSizes(ctx, ctx.input(0));
  const outSizes = spatialSizes(ctx, ctx.output(0));
  const { pads, outputPadding } = transposeGeometry(spec, inSizes, outSizes);
  if (unit(spec.strides) && pads.every((p) => p === 0) && outputPadding.every((p) => p === 0)) return dense;
  const ones = e.float(new Float32Array(c).fill(1), [c, 1, ...spec.kernel]);
  return convTranspose(ctx, dense, ones, spec, c);
}

/** Swap the last two axes (MatMul's transpose). */
function swapLastTwo(ctx: AdjointContext, name: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, a) => a);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return ctx.emit.op('Transpose', [name], { perm });
}

/** Indices an ONNX Slice takes along one axis of size `size`. */
export function sliceIndices(start: number, end: number, step: number, size: number): number[] {
  if (step === 0) throw new Error('Slice step 0');
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + size : start;
  const e = end < 0 ? end + size : end;
  const out: number[] = [];
  if (step > 0) {
    for (let i = clamp(s, 0, size); i < clamp(e, 0, size); i += step) out.push(i);
  } else {
    for (let i = clamp(s, 0, size - 1); i > clamp(e, -1, size - 1); i += step) out.push(i);
  }
  return out;
}

/**
 * The transpose of selecting `indices` along `axis` (of length `size`): contiguous ascending runs
 * become padding; anything else (steps, reversal) a product with the 0/1 selection matrix.
 */
function scatterAlongAxis(
  ctx: AdjointContext,
  grad: string,
  rank: number,
  axis: number,
  indices: readonly number[],
  size: number,
): { grad: string; pads?: [number, number] } {
  const first = indices[0]!;
  const contiguous = indices.every((v, i) => v === first + i);
  if (contiguous) return { grad, pads: [first, size - first - indices.length] };
  const selection = new Float32Array(indices.length * size);
  indices.forEach((v, i) => {
    selection[i * size + v] = 1;
  });
  const matrix = ctx.emit.float(selection, [indices.length, size]);
  if (axis === rank - 1) return { grad: ctx.emit.op('MatMul', [grad, matrix]) };
  const perm = Array.from({ length: rank }, (_, a) => a);
  perm[axis] = rank - 1;
  perm[rank - 1] = axis;
  const moved = ctx.emit.op('Transpose', [grad], { perm });
  const scattered = ctx.emit.op('MatMul', [moved, matrix]);
  return { grad: ctx.emit.op('Transpose', [scattered], { perm }) };
}

function padAxes(
  ctx: AdjointContext,
  grad: string,
  rank: number,
  perAxis: ReadonlyMap<number, [number, number]>,
) {
  if ([...perAxis.values()].every(([b, e]) => b === 0 && e === 0)) return grad;
  const pads = new Array<number>(2 * rank).fill(0);
  for (const [axis, [b, e]] of perAxis) {
    pads[axis] = b;
    pads[axis + rank] = e;
  }
  return ctx.emit.op('Pad', [grad, ctx.emit.int64(pads)], { mode: 'constant' });
}

/** Axes of a reduce op: the attribute before opset 18 (13 for ReduceSum), the input after. */
function reduceAxes(ctx: AdjointContext, inputAxesFrom: number): number[] {
  const rank = rankOf(ctx, ctx.input(0));
  let axes: number[] | undefined;
  if (ctx.opset >= inputAxesFrom) axes = constantInts(ctx, 1, 'axes');
  else axes = attrInts(ctx.node, 'axes', []);
  if (!axes || axes.length === 0) {
    if (attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) return [];
    axes = Array.from({ length: rank }, (_, a) => a);
  }
  return axes.map((a) => normaliseAxis(a, rank)).sort((a, b) => a - b);
}

function reduceBack(ctx: AdjointContext, inputAxesFrom: number, mean: boolean): string {
  const axes = reduceAxes(ctx, inputAxesFrom);
  let grad = ctx.gradOutput();
  if (axes.length > 0 && attrInt(ctx.node, 'keepdims', 1) === 0) {
    grad = ctx.emit.op('Unsqueeze', [grad, ctx.emit.int64(axes)]);
  }
  if (mean) {
    const count = axes.reduce((n, a) => n * ctx.fixedDim(ctx.input(0), a), 1);
    grad = ctx.emit.op('Div', [grad, ctx.emit.scalar(count)]);
  }
  return ctx.emit.op('Expand', [grad, ctx.emit.op('Shape', [ctx.input(0)])]);
}

// ---------------------------------------------------------------------------------------------
// The table.

const identity: BackwardRule = {
  kind: 'linear',
  transpose: () => [(ctx) => ctx.gradOutput()],
  channelwise: true,
};

const relu: BackwardRule = {
  kind: 'elementwise',
  derivative: () => [(ctx) => ctx.emit.mask(ctx.emit.op('Greater', [ctx.input(0), ctx.emit.scalar(0)]))],
};

export const BACKWARD_RULES: Readonly<Record<string, BackwardRule>> = {
  Identity: identity,
  Dropout: {
    kind: 'linear',
    channelwise: true,
    // Inference: the identity. ratio and training_mode only matter in training.
    transpose: () => [(ctx) => ctx.gradOutput(), none('dropout ratio'), none('training mode flag')],
  },
  Relu: relu,
  LeakyRelu: {
    kind: 'elementwise',
    derivative: (node) => [
      (ctx) =>
        ctx.emit.op('Where', [
          ctx.emit.op('Greater', [ctx.input(0), ctx.emit.scalar(0)]),
          ctx.emit.scalar(1),
          ctx.emit.scalar(attrFloat(node, 'alpha', 0.01)),
        ]),
    ],
  },
  Clip: {
    kind: 'elementwise',
    derivative: () => [
      (ctx) => {
        const x = ctx.input(0);
        let inside: string | undefined;
        for (const [k, op] of [
          [1, 'GreaterOrEqual'],
          [2, 'LessOrEqual'],
        ] as const) {
          if (!ctx.hasInput(k)) continue;
          const within = ctx.emit.op(op, [x, ctx.input(k)]);
          inside = inside === undefined ? within : ctx.emit.op('And', [inside, within]);
        }
        return inside === undefined ? 1 : ctx.emit.mask(inside);
      },
      unsupported('clip bound'),
      unsupported('clip bound'),
    ],
  },
  Sigmoid: {
    kind: 'elementwise',
    derivative: () => [
      (ctx) => ctx.emit.op('Mul', [ctx.output(0), ctx.emit.op('Sub', [ctx.emit.scalar(1), ctx.output(0)])]),
    ],
  },
  Tanh: {
    kind: 'elementwise',
    derivative: () => [
      (ctx) => ctx.emit.op('Sub', [ctx.emit.scalar(1), ctx.emit.op('Mul', [ctx.output(0), ctx.output(0)])]),
    ],
  },
  Add: { kind: 'elementwise', derivative: () => [() => 1, () => 1] },
  Sub: { kind: 'elementwise', derivative: () => [() => 1, () => -1] },
  Mul: { kind: 'elementwise', derivative: () => [(ctx) => ctx.input(1), (ctx) => ctx.input(0)] },
  Div: {
    kind: 'elementwise',
    derivative: () => [
      (ctx) => ctx.emit.op('Reciprocal', [ctx.input(1)]),
      // d(a/b)/db = -a/b^2 = -(a/b)/b
      (ctx) => ctx.emit.op('Neg', [ctx.emit.op('Div', [ctx.output(0), ctx.input(1)])]),
    ],
  },
  BatchNormalization: {
    kind: 'adjoint',
    channelwise: true,
    adjoint: (node) => {
      if (attrInt(node, 'training_mode', 0) !== 0) {
        return [
          unsupported('BatchNormalization in training mode'),
          PARAMETER,
          PARAMETER,
          PARAMETER,
          PARAMETER,
        ];
      }
      return [
        (ctx) => {
          // Inference: y = scale * (x - mean) / sqrt(var + eps) + bias, a per-channel scaling of x.
          const eps = ctx.emit.scalar(attrFloat(ctx.node, 'epsilon', 1e-5));
          const factor = ctx.emit.op('Div', [
            ctx.input(1),
            ctx.emit.op('Sqrt', [ctx.emit.op('Add', [ctx.input(4), eps])]),
          ]);
          const rank = rankOf(ctx, ctx.input(0));
          const perChannel = ctx.emit.op('Reshape', [
            factor,
            ctx.emit.int64([-1, ...new Array<number>(rank - 2).fill(1)]),
          ]);
          return ctx.emit.op('Mul', [ctx.gradOutput(), perChannel]);
        },
        PARAMETER,
        PARAMETER,
        PARAMETER,
        PARAMETER,
      ];
    },
  },
  Conv: {
    kind: 'linear',
    transpose: () => [
      (ctx) => {
        const weights = ctx.input(1);
        const kernel = attrInts(
          ctx.node,
          'kernel_shape',
          ctx
            .dims(weights)
            .slice(2)
            .map((_, a) => ctx.fixedDim(weights, a + 2)),
        );
        const spec = windowSpec(ctx, kernel);
        const group = attrInt(ctx.node, 'group', 1);
        const oneChannel = oneChannelPointwiseConv(ctx, weights, spec, group);
        if (oneChannel) return oneChannel;
        const flipped = flippedConv(ctx, weights, spec, group);
        if (flipped) return flipped;
        // ConvTranspose reads the conv's [M, C/group, k...] weights as [in, out/group, k...]: its
        // transpose, group by group (depthwise included).
        return convTranspose(
          ctx,
          ctx.gradOutput(),
          weights,
          windowSpec(ctx, kernel),
          attrInt(ctx.node, 'group', 1),
        );
      },
      PARAMETER,
      PARAMETER,
    ],
  },
  Gemm: {
    kind: 'linear',
    transpose: (node) => {
      const alpha = attrFloat(node, 'alpha', 1);
      const beta = attrFloat(node, 'beta', 1);
      const transA = attrInt(node, 'transA', 0);
      const transB = attrInt(node, 'transB', 0);
      return [
        // Y = alpha A' B' + beta C with A' = transA ? A^T : A, B' likewise.
        (ctx) =>
          transA
            ? ctx.emit.op('Gemm', [ctx.input(1), ctx.gradOutput()], { alpha, transA: transB, transB: 1 })
            : ctx.emit.op('Gemm', [ctx.gradOutput(), ctx.input(1)], { alpha, transA: 0, transB: 1 - transB }),
        (ctx) =>
          transB
            ? ctx.emit.op('Gemm', [ctx.gradOutput(), ctx.input(0)], { alpha, transA: 1, transB: transA })
            : ctx.emit.op('Gemm', [ctx.input(0), ctx.gradOutput()], { alpha, transA: 1 - transA, transB: 0 }),
        (ctx) => {
          const scaled =
            beta === 1 ? ctx.gradOutput() : ctx.emit.op('Mul', [ctx.gradOutput(), ctx.emit.scalar(beta)]);
          return ctx.sumToInput(scaled, ctx.dims(ctx.output(0)), 2);
        },
      ];
    },
  },
  MatMul: {
    kind: 'linear',
    transpose: () => [
      (ctx) => {
        const [ra, rb] = [rankOf(ctx, ctx.input(0)), rankOf(ctx, ctx.input(1))];
        if (ra < 2 || rb < 2) throw ctx.fail('MatMul with a 1-D operand has no adjoint here');
        const grad = ctx.emit.op('MatMul', [ctx.gradOutput(), swapLastTwo(ctx, ctx.input(1), rb)]);
        const dims = [...ctx.dims(ctx.output(0)).slice(0, -1), ctx.dims(ctx.input(0)).at(-1)!];
        return ctx.sumToInput(grad, dims, 0);
      },
      (ctx) => {
        const [ra, rb] = [rankOf(ctx, ctx.input(0)), rankOf(ctx, ctx.input(1))];
        if (ra < 2 || rb < 2) throw ctx.fail('MatMul with a 1-D operand has no adjoint here');
        const grad = ctx.emit.op('MatMul', [swapLastTwo(ctx, ctx.input(0), ra), ctx.gradOutput()]);
        const out = ctx.dims(ctx.output(0));
        const dims = [...out.slice(0, -2), ctx.dims(ctx.input(1)).at(-2)!, out.at(-1)!];
        return ctx.sumToInput(grad, dims, 1);
      },
    ],
  },
  Concat: {
    kind: 'linear',
    transpose: (node) =>
      (node.input ?? []).map((_, k) => (ctx: AdjointContext) => {
        const rank = rankOf(ctx, ctx.input(0));
        const axis = normaliseAxis(attrInt(ctx.node, 'axis'), rank);
        let start = 0;
        for (let j = 0; j < k; j++) start += ctx.fixedDim(ctx.input(j), axis);
        const end = start + ctx.fixedDim(ctx.input(k), axis);
        return ctx.emit.op('Slice', [
          ctx.gradOutput(),
          ctx.emit.int64([start]),
          ctx.emit.int64([end]),
          ctx.emit.int64([axis]),
        ]);
      }),
  },
  Split: {
    kind: 'linear',
    transpose: () => [
      (ctx) => {
        const axis = normaliseAxis(attrInt(ctx.node, 'axis', 0), rankOf(ctx, ctx.input(0)));
        const parts = (ctx.node.output ?? []).map((_, k) => ctx.gradOutput(k));
        return ctx.emit.op('Concat', parts, { axis });
      },
      SHAPE_INPUT,
    ],
  },
  Slice: {
    kind: 'linear',
    transpose: () => [
      (ctx) => {
        const data = ctx.input(0);
        const rank = rankOf(ctx, data);
        const starts = constantInts(ctx, 1, 'starts')!;
        const ends = constantInts(ctx, 2, 'ends')!;
        const axes = constantInts(ctx, 3, 'axes') ?? starts.map((_, i) => i);
        const steps = constantInts(ctx, 4, 'steps') ?? starts.map(() => 1);
        let grad = ctx.gradOutput();
        const pads = new Map<number, [number, number]>();
        axes.forEach((rawAxis, i) => {
          const axis = normaliseAxis(rawAxis, rank);
          const dim = ctx.dims(data)[axis];
          if (dim === 'N') {
            const whole = starts[i] === 0 && steps[i] === 1 && ends[i]! >= 2 ** 31 - 1;
            if (whole) return;
            throw ctx.fail(`slicing the batch axis ${axis} has no adjoint here`);
          }
          const indices = sliceIndices(starts[i]!, ends[i]!, steps[i]!, dim!);
          if (indices.length === 0) throw ctx.fail(`Slice selects nothing along axis ${axis}`);
          const step = scatterAlongAxis(ctx, grad, rank, axis, indices, dim!);
          grad = step.grad;
          if (step.pads) pads.set(axis, step.pads);
        });
        return padAxes(ctx, grad, rank, pads);
      },
      SHAPE_INPUT,
      SHAPE_INPUT,
      SHAPE_INPUT,
      SHAPE_INPUT,
    ],
  },
  Pad: {
    kind: 'linear',
    transpose: () => [
      (ctx) => {
        const mode = attrString(ctx.node, 'mode', 'constant');
        if (mode !== 'constant') throw ctx.fail(`Pad mode '${mode}' has no adjoint here (only 'constant')`);
        const data = ctx.input(0);
        const rank = rankOf(ctx, data);
        const raw = constantInts(ctx, 1, 'pads')!;
        const axes = (constantInts(ctx, 3, 'axes') ?? Array.from({ length: rank }, (_, a) => a)).map((a) =>
          normaliseAxis(a, rank),
        );
        const n = axes.length;
        // Positive pads are cut away again (a Slice); negative pads (crops) are padded back.
        const starts: number[] = [];
        const ends: number[] = [];
        const sliced: number[] = [];
        const restore = new Map<number, [number, number]>();
        axes.forEach((axis, i) => {
          const begin = raw[i]!;
          const end = raw[i + n]!;
          if (begin === 0 && end === 0) return;
          if (ctx.dims(data)[axis] === 'N')
            throw ctx.fail(`padding the batch axis ${axis} has no adjoint here`);
          if (begin > 0 || end > 0) {
            const size = ctx.fixedDim(ctx.output(0), axis);
            sliced.push(axis);
            starts.push(Math.max(begin, 0));
            ends.push(size - Math.max(end, 0));
          }
          restore.set(axis, [Math.max(-begin, 0), Math.max(-end, 0)]);
        });
        let grad = ctx.gradOutput();
        if (sliced.length > 0) {
          grad = ctx.emit.op('Slice', [
            grad,
            ctx.emit.int64(starts),
            ctx.emit.int64(ends),
            ctx.emit.int64(sliced),
          ]);
        }
        return padAxes(ctx, grad, rank, restore);
      },
      SHAPE_INPUT,
      unsupported('the constant pad value'),
      SHAPE_INPUT,
    ],
  },
  Reshape: { kind: 'linear', transpose: () => [reshapeBack, SHAPE_INPUT] },
  Flatten: { kind: 'linear', transpose: () => [reshapeBack] },
  Squeeze: { kind: 'linear', transpose: () => [reshapeBack, SHAPE_INPUT] },
  Unsqueeze: { kind: 'linear', transpose: () => [reshapeBack, SHAPE_INPUT] },
  Transpose: {
    kind: 'linear',
    transpose: () => [
      (ctx) => {
        const rank = rankOf(ctx, ctx.input(0));
        const perm = attrInts(
          ctx.node,
          'perm',
          Array.from({ length: rank }, (_, a) => rank - 1 - a),
        );
        const inverse = new Array<number>(rank);
        perm.forEach((p, a) => {
          inverse[p] = a;
        });
        return ctx.emit.op('Transpose', [ctx.gradOutput()], { perm: inverse });
      },
    ],
  },
  MaxPool: {
    kind: 'adjoint',
    adjoint: (node) => {
      if (attrInt(node, 'storage_order', 0) !== 0) {
        return [unsupported('MaxPool with storage_order=1 (column-major indices)')];
      }
      return [
        (ctx) => {
          // Re-run the pool for its flat N*C*H*W Indices output, then scatter-add the gradient there:
          // overlapping windows that chose the same element accumulate.
          const [, indices] = emitWithAttributes(ctx.emit, ctx.node, [ctx.input(0)], 2);
          const flatShape = ctx.emit.int64([-1]);
          const flatInput = ctx.emit.op('Reshape', [ctx.input(0), flatShape]);
          const scattered = ctx.emit.op(
            'ScatterElements',
            [
              ctx.emit.zerosLike(flatInput),
              ctx.emit.op('Reshape', [indices!, flatShape]),
              ctx.emit.op('Reshape', [ctx.gradOutput(), flatShape]),
            ],
            { axis: 0, reduction: 'add' },
          );
          return ctx.emit.op('Reshape', [scattered, ctx.emit.op('Shape', [ctx.input(0)])]);
        },
      ];
    },
  },
  AveragePool: {
    kind: 'linear',
    transpose: () => [
      (ctx) => {
        const x = ctx.input(0);
        const kernel = attrInts(ctx.node, 'kernel_shape');
        const spec = windowSpec(ctx, kernel);
        const inSizes = spatialSizes(ctx, x);
        const outSizes = spatialSizes(ctx, ctx.output(0));
        const divisors = poolDivisors(
          spec,
          inSizes,
          outSizes,
          attrInt(ctx.node, 'count_include_pad', 0) === 1,
        );
        const scaled = ctx.emit.op('Div', [ctx.gradOutput(), ctx.emit.float(divisors, [1, 1, ...outSizes])]);
        const channels = ctx.fixedDim(x, 1);
        const size = kernel.reduce((a, b) => a * b, 1);
        const ones = ctx.emit.float(new Float32Array(channels * size).fill(1), [channels, 1, ...kernel]);
        return convTranspose(ctx, scaled, ones, spec, channels);
      },
    ],
  },
  GlobalAveragePool: {
    kind: 'linear',
    transpose: () => [
      (ctx) => {
        const x = ctx.input(0);
        const area = spatialSizes(ctx, x).reduce((a, b) => a * b, 1);
        const scaled = ctx.emit.op('Div', [ctx.gradOutput(), ctx.emit.scalar(area)]);
        return ctx.emit.op('Expand', [scaled, ctx.emit.op('Shape', [x])]);
      },
    ],
  },
  ReduceMean: { kind: 'linear', transpose: () => [(ctx) => reduceBack(ctx, 18, true), SHAPE_INPUT] },
  ReduceSum: { kind: 'linear', transpose: () => [(ctx) => reduceBack(ctx, 13, false), SHAPE_INPUT] },
};

export const SUPPORTED_OPS: readonly string[] = Object.keys(BACKWARD_RULES).sort();

export function ruleFor(
  node: NodeProto,
  table: Readonly<Record<string, BackwardRule>> = BACKWARD_RULES,
): BackwardRule {
  const rule = table[node.opType ?? ''];
  if (!rule) {
    throw new Error(
      `node ${GraphIndex.describe(node)} has op type '${node.opType}', which has no backward rule; ` +
        `supported: ${Object.keys(table).sort().join(', ')}`,
    );
  }
  return rule;
}

export { FLOAT };
