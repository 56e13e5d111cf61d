/**
 * LRP rules as modified entries of the backward rule table (zennit's rules, in ONNX). Under an LRP
 * composite what flows backward is relevance R, not gradient. A rule is built from the op's
 * gradient entry and differs only in its parts: which inputs and weights the forward is recomputed
 * with, and how the output is stabilised:
 *   epsilon: R_in = x (.) T(R / stab(z, eps))                 z = the op's own output
 *   z+:      R_in = x+ (.) T+(s) + x- (.) T-(s),  s = R / stab(op(x+, W+, b+) + op(x-, W-))
 *   flat:    R_in = T1(R / stab(op(1, 1)))                    all inputs and weights one
 *   pass:    R_in = R                                          activations, unmerged BatchNorm
 *   norm:    R_k = x_k (.) R / stab(z)                         sums and average pools
 * where T is the op's transpose (its gradient entry) and stab(z) = z + eps (sign(z) + [z == 0]).
 * Composites are ordered (matcher, rule) lists; the first match wins; presets are chosen by name.
 */
import { GraphIndex, type NodeProto } from '../onnx/model.js';
import { emitWithAttributes, FLOAT } from './emitter.js';
import {
  type AdjointContext,
  BACKWARD_RULES,
  type BackwardRule,
  type Formula,
  isGradientSlot,
  ruleFor,
  type Slot,
  slotsOf,
  unsupported,
} from './rules.js';

export type LrpRuleName = 'epsilon' | 'zplus' | 'flat' | 'pass' | 'norm';
export const COMPOSITES = ['gradient', 'epsilon', 'zplus', 'flat', 'epsilon-plus-flat'] as const;
export type CompositeName = (typeof COMPOSITES)[number];

export interface CompositeOptions {
  /** The epsilon of the epsilon rule (zennit's default 1e-6). */
  readonly epsilon?: number;
  /** The stabiliser of z+, flat and norm (zennit's default 1e-6). */
  readonly stabilizer?: number;
}

/** Ops with weights: the layers LRP rules are about. */
const PARAMETRIC = new Set(['Conv', 'Gemm', 'MatMul']);
/**
 * Single-op activations: the pass rule, as zennit's `Activation` type (which lists Hardsigmoid,
 * Hardswish and GELU too). GELU before opset 20 and SiLU arrive decomposed (Erf, Sigmoid x Mul) and
 * are not recognised as one activation: their Mul takes the gradient rule.
 */
const ACTIVATIONS = new Set([
  'Relu',
  'LeakyRelu',
  'Clip',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'Gelu',
]);
const SUMS_AND_MEANS = new Set(['Add', 'Sum', 'AveragePool', 'GlobalAveragePool', 'ReduceMean']);
/**
 * A BatchNormalization the canonizer could not merge (no conv right before it: DenseNet's and
 * pre-activation ResNets' BN -> ReLU -> conv) passes relevance unchanged, as zennit's base layer map
 * (`BatchNorm -> Pass`) has it; the gradient rule would scale relevance by gamma / sqrt(var + eps).
 */
const PASS_NORMALIZATIONS = new Set(['BatchNormalization']);

function stabilize(ctx: AdjointContext, z: string, epsilon: number): string {
  const e = ctx.emit;
  const sign = e.op('Add', [
    e.op('Sign', [z]),
    e.op('Cast', [e.op('Equal', [z, e.scalar(0)])], { to: FLOAT }),
  ]);
  return e.op('Add', [z, e.op('Mul', [sign, e.scalar(epsilon)])]);
}

/** A context whose inputs and output gradient are swapped for modified ones (shapes unchanged). */
function modified(
  ctx: AdjointContext,
  inputs: Readonly<Record<number, string>>,
  grad: string,
): AdjointContext {
  const original = new Map<string, string>();
  for (const [k, name] of Object.entries(inputs)) original.set(name, ctx.input(Number(k)));
  const back = (name: string) => original.get(name) ?? name;
  return {
    ...ctx,
    input: (k) => inputs[k] ?? ctx.input(k),
    gradOutput: (k = 0) => (k === 0 ? grad : ctx.gradOutput(k)),
    // The swapped-in gradient may not keep the original's zeros; claim nothing about it.
    gradChannel: () => undefined,
    dims: (name) => ctx.dims(back(name)),
    fixedDim: (name, axis) => ctx.fixedDim(back(name), axis),
    constant: (name) => (original.has(name) ? undefined : ctx.constant(name)),
  };
}

function baseFormula(node: NodeProto, k: number): Formula {
  const base = ruleFor(node, BACKWARD_RULES);
  if (base.kind === 'elementwise')
    throw new Error(`LRP: ${GraphIndex.describe(node)} has no linear transpose`);
  const slot = slotsOf(base, node)[k];
  if (!isGradientSlot(slot)) throw new Error(`LRP: ${GraphIndex.describe(node)} input ${k} has no transpose`);
  return slot as Formula;
}

/** Relevance only for the data input (0); weights and biases get none. */
function dataInputOnly(node: NodeProto, formula: Formula): Slot<Formula>[] {
  return (node.input ?? []).map((_, k) =>
    k === 0 ? formula : unsupported('LRP assigns relevance to activations only'),
  );
}

export function epsilonRule(epsilon: number): (node: NodeProto) => BackwardRule {
  validatePositive('epsilon', epsilon);
  return (node) => ({
    kind: 'adjoint',
    adjoint: () =>
      dataInputOnly(node, (ctx) => {
        const s = ctx.emit.op('Div', [ctx.gradOutput(), stabilize(ctx, ctx.output(0), epsilon)]);
        return ctx.emit.op('Mul', [ctx.input(0), baseFormula(node, 0)(modified(ctx, {}, s))]);
      }),
  });
}

export function zPlusRule(stabilizer: number): (node: NodeProto) => BackwardRule {
  validatePositive('stabilizer', stabilizer);
  return (node) => ({
    kind: 'adjoint',
    adjoint: () =>
      dataInputOnly(node, (ctx) => {
        const e = ctx.emit;
        const positive = (name: string) => e.op('Relu', [name]);
        const negative = (name: string) => e.op('Neg', [e.op('Relu', [e.op('Neg', [name])])]);
        const xp = positive(ctx.input(0));
        const xn = negative(ctx.input(0));
        const wp = positive(ctx.input(1));
        const wn = negative(ctx.input(1));
        const bias = ctx.hasInput(2) ? [positive(ctx.input(2))] : [];
        const [zp] = emitWithAttributes(e, node, [xp, wp, ...bias], 1);
        const [zn] = emitWithAttributes(e, node, [xn, wn], 1);
        const s = e.op('Div', [ctx.gradOutput(), stabilize(ctx, e.op('Add', [zp!, zn!]), stabilizer)]);
        const transpose = baseFormula(node, 0);
        return e.op('Add', [
          e.op('Mul', [xp, transpose(modified(ctx, { 0: xp, 1: wp }, s))]),
          e.op('Mul', [xn, transpose(modified(ctx, { 0: xn, 1: wn }, s))]),
        ]);
      }),
  });
}

export function flatRule(stabilizer: number): (node: NodeProto) => BackwardRule {
  validatePositive('stabilizer', stabilizer);
  return (node) => ({
    kind: 'adjoint',
    adjoint: () =>
      dataInputOnly(node, (ctx) => {
        const e = ctx.emit;
        const ones = (like: string) => e.op('Add', [e.zerosLike(like), e.scalar(1)]);
        const x1 = ones(ctx.input(0));
        const w1 = ones(ctx.input(1));
        const [z] = emitWithAttributes(e, node, [x1, w1], 1);
        const s = e.op('Div', [ctx.gradOutput(), stabilize(ctx, z!, stabilizer)]);
        return baseFormula(node, 0)(modified(ctx, { 0: x1, 1: w1 }, s));
      }),
  });
}

export const passRule = (node: NodeProto): BackwardRule => ({
  kind: 'linear',
  transpose: () =>
    (node.input ?? []).map((_, k) =>
      k === 0 ? (ctx: AdjointContext) => ctx.gradOutput() : unsupported('pass rule: data input only'),
    ),
});

export function normRule(stabilizer: number): (node: NodeProto) => BackwardRule {
  validatePositive('stabilizer', stabilizer);
  return (node) => ({
    kind: 'adjoint',
    adjoint: () => {
      if (node.opType === 'Add' || node.opType === 'Sum') {
        // Each summand gets the share of R it contributed to the sum.
        return (node.input ?? []).map((_, k) => (ctx: AdjointContext) => {
          const s = ctx.emit.op('Div', [ctx.gradOutput(), stabilize(ctx, ctx.output(0), stabilizer)]);
          return ctx.sumToInput(ctx.emit.op('Mul', [ctx.input(k), s]), ctx.dims(ctx.output(0)), k);
        });
      }
      return (node.input ?? []).map((_, k) =>
        k === 0
          ? (ctx: AdjointContext) => {
              const s = ctx.emit.op('Div', [ctx.gradOutput(), stabilize(ctx, ctx.output(0), stabilizer)]);
              return ctx.emit.op('Mul', [ctx.input(0), baseFormula(node, 0)(modified(ctx, {}, s))]);
            }
          : unsupported('norm rule: data input only'),
      );
    },
  });
}

function validatePositive(what: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0))
    throw new Error(`LRP ${what} must be a positive number, got ${value}`);
}

/** What a matcher may ask about a node. */
export interface NodeFacts {
  /** The node is a parametric layer that no other parametric layer feeds (the model's first layer). */
  readonly firstLayer: boolean;
  /**
   * The node's second input (a Conv/Gemm/MatMul weight) is computed in the graph: a product of two
   * activations, as attention's Q K^T and softmax(.) V. Not a layer with weights: no LRP rule matches it
   * and it takes the gradient table, as in zennit, whose rules attach to modules while attention's
   * matrix products are plain torch.matmul calls that autograd differentiates.
   */
  readonly computedWeight: boolean;
}

export interface CompositeEntry {
  readonly name: string;
  readonly matches: (node: NodeProto, facts: NodeFacts) => boolean;
  readonly rule: (node: NodeProto) => BackwardRule;
}

export function compositeEntries(name: CompositeName, options: CompositeOptions = {}): CompositeEntry[] {
  const epsilon = options.epsilon ?? 1e-6;
  const stabilizer = options.stabilizer ?? 1e-6;
  const op =
    (...types: string[]) =>
    (node: NodeProto, facts: NodeFacts) =>
      types.includes(node.opType ?? '') && !facts.computedWeight;
  const common: CompositeEntry[] = [
    {
      name: 'pass',
      matches: (n) => ACTIVATIONS.has(n.opType ?? '') || PASS_NORMALIZATIONS.has(n.opType ?? ''),
      rule: passRule,
    },
    { name: 'norm', matches: (n) => SUMS_AND_MEANS.has(n.opType ?? ''), rule: normRule(stabilizer) },
  ];
  switch (name) {
    case 'gradient':
      return [];
    case 'epsilon':
      return [{ name: 'epsilon', matches: op(...PARAMETRIC), rule: epsilonRule(epsilon) }, ...common];
    case 'zplus':
      return [
        { name: 'zplus', matches: op('Conv', 'Gemm'), rule: zPlusRule(stabilizer) },
        { name: 'epsilon', matches: op('MatMul'), rule: epsilonRule(epsilon) },
        ...common,
      ];
    case 'flat':
      return [
        { name: 'flat', matches: op('Conv', 'Gemm'), rule: flatRule(stabilizer) },
        { name: 'epsilon', matches: op('MatMul'), rule: epsilonRule(epsilon) },
        ...common,
      ];
    case 'epsilon-plus-flat':
      // The authors' composite (zennit EpsilonPlusFlat): flat for the first layer, z+ for the
      // other convolutions, epsilon for dense layers.
      return [
        {
          name: 'flat',
          matches: (n, facts) => facts.firstLayer && op('Conv', 'Gemm')(n, facts),
          rule: flatRule(stabilizer),
        },
        { name: 'zplus', matches: op('Conv'), rule: zPlusRule(stabilizer) },
        { name: 'epsilon', matches: op('Gemm', 'MatMul'), rule: epsilonRule(epsilon) },
        ...common,
      ];
    default: {
      const never: never = name;
      throw new Error(`unknown composite '${String(never)}'; choose one of ${COMPOSITES.join(', ')}`);
    }
  }
}

/** The per-node rule choice for a composite over the given forward nodes. */
export function compositeRuleOf(
  name: CompositeName,
  nodes: readonly NodeProto[],
  options: CompositeOptions = {},
): (node: NodeProto) => BackwardRule {
  const entries = compositeEntries(name, options);
  const afterParametric = new Set<string>();
  const first = new Set<NodeProto>();
  const computed = new Set(nodes.flatMap((n) => n.output ?? []));
  for (const node of nodes) {
    const inputs = node.input ?? [];
    const fed = inputs.some((i) => afterParametric.has(i));
    if (PARAMETRIC.has(node.opType ?? '') && !fed) first.add(node);
    if (fed || PARAMETRIC.has(node.opType ?? '')) for (const o of node.output ?? []) afterParametric.add(o);
  }
  return (node) => {
    const weight = node.input?.[1];
    const facts = {
      firstLayer: first.has(node),
      computedWeight: weight !== undefined && computed.has(weight),
    };
    const entry = entries.find((e) => e.matches(node, facts));
    return entry ? entry.rule(node) : ruleFor(node, BACKWARD_RULES);
  };
}
