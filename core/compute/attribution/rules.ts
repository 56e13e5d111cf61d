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
 * To add an op: one entry here and one row in test/unit/attribution/rules.test.ts. Formulas too
 * long to read inline live in window-adjoints.ts (Conv and the pools), shape-adjoints.ts (reshapes,
 * constant selections, reductions), index-adjoints.ts (Gather, GatherElements, computed slices),
 * norm-adjoints.ts (Softmax, LayerNormalization) and resize-adjoint.ts, named after the op they
 * differentiate (`convBack`, ...).
 */

import { attrFloat, attrInt, attrString } from '../onnx/attributes.js';
import { GraphIndex, type NodeProto } from '../onnx/model.js';
import type { Tensor } from '../onnx/tensor.js';
import type { Dim } from '../onnx/tensor-info.js';
import { type Emitter, FLOAT } from './emitter.js';
import { gatherBack, gatherElementsBack, sliceBack } from './index-adjoints.js';
import { layerNormBack, layerNormBiasBack, layerNormScaleBack, softmaxBack } from './norm-adjoints.js';
import { resizeBack } from './resize-adjoint.js';
import {
  matMulRanks,
  normaliseAxis,
  padBack,
  rankOf,
  reduceBack,
  reshapeBack,
  swapLastTwo,
  transposeBack,
} from './shape-adjoints.js';
import { averagePoolBack, convBack, globalAveragePoolBack, maxPoolBack } from './window-adjoints.js';

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
  /** Whether any gradient reached output k (rules with optional outputs skip the terms of the others). */
  reached(k: number): boolean;
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
const INDICES = none('indices (integer valued)');

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

/** Elementwise functions whose derivative is a formula in x and y = f(x). */
function smooth(derivative: (ctx: AdjointContext, x: string, y: string) => string): BackwardRule {
  return { kind: 'elementwise', derivative: () => [(ctx) => derivative(ctx, ctx.input(0), ctx.output(0))] };
}

const SMOOTH_UNARY: Readonly<Record<string, BackwardRule>> = {
  // GELU as exported before opset 20: x * 0.5 * (1 + Erf(x / sqrt 2)); d erf / dx = 2 / sqrt(pi) e^(-x^2).
  Erf: smooth((ctx, x) => {
    const e = ctx.emit;
    return e.op('Mul', [e.scalar(2 / Math.sqrt(Math.PI)), e.op('Exp', [e.op('Neg', [e.op('Mul', [x, x])])])]);
  }),
  Sqrt: smooth((ctx, _x, y) => ctx.emit.op('Div', [ctx.emit.scalar(0.5), y])),
  Reciprocal: smooth((ctx, _x, y) => ctx.emit.op('Neg', [ctx.emit.op('Mul', [y, y])])),
  Exp: smooth((_ctx, _x, y) => y),
  Log: smooth((ctx, x) => ctx.emit.op('Reciprocal', [x])),
  Neg: { kind: 'elementwise', derivative: () => [() => -1] },
};

/**
 * Gelu (opset 20; earlier exports decompose it through Erf). Exact: Phi(x) + x phi(x). Tanh form,
 * y = x (1 + t) / 2 with t = tanh(u), u = c (x + 0.044715 x^3), c = sqrt(2 / pi):
 * (1 + t) / 2 + x (1 - t^2) c (1 + 3 * 0.044715 x^2) / 2.
 */
function geluDerivative(ctx: AdjointContext, approximate: string): string {
  const e = ctx.emit;
  const x = ctx.input(0);
  const x2 = e.op('Mul', [x, x]);
  const half = e.scalar(0.5);
  if (approximate === 'none') {
    const cdf = e.op('Mul', [
      half,
      e.op('Add', [e.scalar(1), e.op('Erf', [e.op('Mul', [x, e.scalar(Math.SQRT1_2)])])]),
    ]);
    const pdf = e.op('Mul', [
      e.scalar(1 / Math.sqrt(2 * Math.PI)),
      e.op('Exp', [e.op('Mul', [x2, e.scalar(-0.5)])]),
    ]);
    return e.op('Add', [cdf, e.op('Mul', [x, pdf])]);
  }
  if (approximate !== 'tanh') throw ctx.fail(`Gelu approximate='${approximate}' has no adjoint here`);
  const c = Math.sqrt(2 / Math.PI);
  const cubic = e.op('Add', [e.scalar(1), e.op('Mul', [x2, e.scalar(0.044715)])]);
  const t = e.op('Tanh', [e.op('Mul', [e.op('Mul', [x, cubic]), e.scalar(c)])]);
  const slope = e.op('Add', [e.scalar(c), e.op('Mul', [x2, e.scalar(3 * 0.044715 * c)])]);
  const tail = e.op('Mul', [e.op('Mul', [x, e.op('Sub', [e.scalar(1), e.op('Mul', [t, t])])]), slope]);
  return e.op('Mul', [half, e.op('Add', [e.op('Add', [e.scalar(1), t]), tail])]);
}

/** 0/1: where 0 < alpha x + beta < 1 (HardSigmoid's linear part). */
function hardSigmoidInside(ctx: AdjointContext, alpha: number, beta: number): string {
  const e = ctx.emit;
  const z = e.op('Add', [e.op('Mul', [ctx.input(0), e.scalar(alpha)]), e.scalar(beta)]);
  return e.mask(e.op('And', [e.op('Greater', [z, e.scalar(0)]), e.op('Less', [z, e.scalar(1)])]));
}

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
  ...SMOOTH_UNARY,
  HardSigmoid: {
    kind: 'elementwise',
    derivative: (node) => [
      (ctx) => {
        // y = max(0, min(1, alpha x + beta)): slope alpha where 0 < alpha x + beta < 1.
        const alpha = attrFloat(node, 'alpha', 0.2);
        return ctx.emit.op('Mul', [
          hardSigmoidInside(ctx, alpha, attrFloat(node, 'beta', 0.5)),
          ctx.emit.scalar(alpha),
        ]);
      },
    ],
  },
  HardSwish: {
    kind: 'elementwise',
    derivative: () => [
      (ctx) => {
        // y = x hardsigmoid(x) (alpha 1/6, beta 1/2): 0 below -3, 1 above 3, x/3 + 1/2 between.
        const e = ctx.emit;
        const x = ctx.input(0);
        const ramp = e.op('Add', [e.op('Mul', [x, e.scalar(1 / 3)]), e.scalar(0.5)]);
        const above = e.op('Greater', [x, e.scalar(3)]);
        return e.op('Mul', [
          e.op('Where', [above, e.scalar(1), ramp]),
          e.mask(e.op('Greater', [x, e.scalar(-3)])),
        ]);
      },
    ],
  },
  Gelu: {
    kind: 'elementwise',
    derivative: (node) => [(ctx) => geluDerivative(ctx, attrString(node, 'approximate', 'none'))],
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
  Pow: {
    kind: 'elementwise',
    derivative: () => [
      // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a (defined for a > 0, as in PyTorch).
      (ctx) =>
        ctx.emit.op('Mul', [
          ctx.input(1),
          ctx.emit.op('Pow', [ctx.input(0), ctx.emit.op('Sub', [ctx.input(1), ctx.emit.scalar(1)])]),
        ]),
      (ctx) => ctx.emit.op('Mul', [ctx.output(0), ctx.emit.op('Log', [ctx.input(0)])]),
    ],
  },
  Where: {
    kind: 'elementwise',
    derivative: () => [
      none('the condition (boolean)'),
      (ctx) => ctx.emit.mask(ctx.input(0)),
      (ctx) => ctx.emit.mask(ctx.emit.op('Not', [ctx.input(0)])),
    ],
  },
  Softmax: { kind: 'adjoint', adjoint: () => [softmaxBack] },
  LayerNormalization: {
    kind: 'adjoint',
    // Scale and bias have formulas (FD-checked) although attribution only needs the input's.
    adjoint: () => [layerNormBack, layerNormScaleBack, layerNormBiasBack],
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
    transpose: () => [convBack, PARAMETER, PARAMETER],
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
        const [, rb] = matMulRanks(ctx);
        const grad = ctx.emit.op('MatMul', [ctx.gradOutput(), swapLastTwo(ctx, ctx.input(1), rb)]);
        const dims = [...ctx.dims(ctx.output(0)).slice(0, -1), ctx.dims(ctx.input(0)).at(-1)!];
        return ctx.sumToInput(grad, dims, 0);
      },
      (ctx) => {
        const [ra] = matMulRanks(ctx);
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
  Slice: { kind: 'linear', transpose: () => [sliceBack, SHAPE_INPUT, SHAPE_INPUT, SHAPE_INPUT, SHAPE_INPUT] },
  Gather: { kind: 'linear', transpose: () => [gatherBack, INDICES] },
  GatherElements: { kind: 'linear', transpose: () => [gatherElementsBack, INDICES] },
  Expand: {
    kind: 'linear',
    transpose: () => [(ctx) => ctx.sumToInput(ctx.gradOutput(), ctx.dims(ctx.output(0)), 0), SHAPE_INPUT],
  },
  Pad: {
    kind: 'linear',
    transpose: () => [padBack, SHAPE_INPUT, unsupported('the constant pad value'), SHAPE_INPUT],
  },
  Resize: {
    kind: 'linear',
    transpose: () => [resizeBack, none('region of interest'), none('scales'), SHAPE_INPUT],
  },
  Reshape: { kind: 'linear', transpose: () => [reshapeBack, SHAPE_INPUT] },
  Flatten: { kind: 'linear', transpose: () => [reshapeBack] },
  Squeeze: { kind: 'linear', transpose: () => [reshapeBack, SHAPE_INPUT] },
  Unsqueeze: { kind: 'linear', transpose: () => [reshapeBack, SHAPE_INPUT] },
  Transpose: { kind: 'linear', transpose: () => [transposeBack] },
  MaxPool: {
    kind: 'adjoint',
    adjoint: (node) => {
      if (attrInt(node, 'storage_order', 0) !== 0) {
        return [unsupported('MaxPool with storage_order=1 (column-major indices)')];
      }
      return [maxPoolBack];
    },
  },
  AveragePool: { kind: 'linear', transpose: () => [averagePoolBack] },
  GlobalAveragePool: { kind: 'linear', transpose: () => [globalAveragePoolBack] },
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
