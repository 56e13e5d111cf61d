/**
 * Raising a model's default-domain opset to the one the attribution graphs are emitted in (17:
 * ScatterElements with reduction='add' needs >= 16). Only ops whose signature changed on the way
 * need rewriting; they are rewritten here, every other node is copied. Models above the target keep
 * their opset (the emitted backward nodes are valid there too).
 */
import { attrFloat, attrInt, attrInts, hasAttr } from './attributes.js';
import {
  graphOf,
  type ModelProto,
  makeNode,
  type NodeProto,
  onnx,
  opsetVersion,
  type TensorProto,
} from './model.js';
import { type Int64Like, int64ToNumber, tensor, tensorToProto } from './tensor.js';

export const EMITTED_OPSET = 17;
export const EMITTED_IR_VERSION = 8;
/** The oldest opset whose ops this pass knows how to upgrade. */
const OLDEST_SUPPORTED = 7;

/** The opset a model is emitted in after upgrading: the target, or the model's own when newer. */
export function targetOpset(model: ModelProto): number {
  return Math.max(EMITTED_OPSET, opsetVersion(model));
}

export function upgradeOpset(model: ModelProto): ModelProto {
  const from = opsetVersion(model);
  const to = targetOpset(model);
  if (from < OLDEST_SUPPORTED) {
    throw new Error(
      `model opset ${from} is older than ${OLDEST_SUPPORTED}; convert it with onnx.version_converter first`,
    );
  }
  const graph = graphOf(model);
  const extra: TensorProto[] = [];
  const constant = (base: string, values: readonly number[], dtype: 'int64' | 'float32'): string => {
    const name = `${base}__upgraded_${extra.length}`;
    extra.push(tensorToProto(name, tensor(dtype, [values.length], [...values])));
    return name;
  };
  const scalar = (base: string, value: number): string => {
    const name = `${base}__upgraded_${extra.length}`;
    extra.push(tensorToProto(name, tensor('float32', [], [value])));
    return name;
  };
  const nodes = (graph.node ?? []).flatMap((node) =>
    COERCED_TO_2D.has(node.opType ?? '') && from < 13
      ? flattenedSoftmax(node)
      : [rewrite(node, from, constant, scalar)],
  );
  return onnx.ModelProto.create({
    ...model,
    irVersion: Math.max(EMITTED_IR_VERSION, int64ToNumber((model.irVersion ?? 0) as Int64Like)),
    opsetImport: [
      ...(model.opsetImport ?? []).filter((o) => (o.domain ?? '') !== '' && o.domain !== 'ai.onnx'),
      { domain: '', version: to },
    ],
    graph: { ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...extra] },
  });
}

/** Ops that, before opset 13, worked on the input flattened to 2-D at `axis` (default 1). */
const COERCED_TO_2D = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

/**
 * Softmax, LogSoftmax and Hardmax before opset 13 normalise over all axes from `axis` (default 1)
 * together; from 13 over `axis` alone (default -1). Keeping the node would silently change what the
 * model computes on inputs of rank > 2, so the old meaning is spelled out: Flatten at `axis`, the op
 * on the last axis of the 2-D result, Reshape back to the input's shape.
 */
function flattenedSoftmax(node: NodeProto): NodeProto[] {
  const [x] = node.input ?? [];
  const [y] = node.output ?? [];
  if (!x || !y) throw new Error(`${node.opType} node '${node.name ?? ''}' lacks its input or output`);
  const op = node.opType ?? '';
  const base = `${y}__opset13`;
  const name = node.name || y;
  return [
    makeNode('Flatten', [x], [`${base}_2d`], { axis: attrInt(node, 'axis', 1) }, `${name}/Flatten`),
    makeNode(op, [`${base}_2d`], [`${base}_out`], { axis: 1 }, name),
    makeNode('Shape', [x], [`${base}_shape`], {}, `${name}/Shape`),
    makeNode('Reshape', [`${base}_out`, `${base}_shape`], [y], {}, `${name}/Reshape`),
  ];
}

function rewrite(
  node: NodeProto,
  from: number,
  constant: (base: string, values: readonly number[], dtype: 'int64' | 'float32') => string,
  scalar: (base: string, value: number) => string,
): NodeProto {
  const op = node.opType ?? '';
  const inputs = [...(node.input ?? [])];
  const outputs = [...(node.output ?? [])];
  const base = outputs[0] ?? op;
  const keepAttrs = (drop: readonly string[]) =>
    onnx.NodeProto.create({
      ...node,
      input: inputs,
      attribute: (node.attribute ?? []).filter((a) => !drop.includes(a.name ?? '')),
    });
  switch (op) {
    case 'Squeeze':
    case 'Unsqueeze':
    case 'ReduceSum':
      if (from < 13 && hasAttr(node, 'axes')) {
        inputs[1] = constant(base, attrInts(node, 'axes'), 'int64');
        return keepAttrs(['axes']);
      }
      return node;
    case 'Split':
      if (from < 13 && hasAttr(node, 'split')) {
        inputs[1] = constant(base, attrInts(node, 'split'), 'int64');
        return keepAttrs(['split']);
      }
      return node;
    case 'Pad':
      if (from < 11) {
        inputs[1] = constant(base, attrInts(node, 'pads'), 'int64');
        if (hasAttr(node, 'value')) inputs[2] = scalar(base, attrFloat(node, 'value'));
        return keepAttrs(['pads', 'value']);
      }
      return node;
    case 'Clip':
      if (from < 11) {
        inputs[1] = scalar(base, attrFloat(node, 'min', -3.4028234663852886e38));
        inputs[2] = scalar(base, attrFloat(node, 'max', 3.4028234663852886e38));
        return keepAttrs(['min', 'max']);
      }
      return node;
    case 'BatchNormalization':
      // `spatial` (before opset 9) and `is_test` are gone; inference semantics are unchanged.
      return keepAttrs(['spatial', 'is_test', 'consumed_inputs']);
    case 'Upsample':
    case 'Resize':
      // Upsample (removed at 10) and Resize-10 (no roi input, asymmetric coordinates) have no
      // faithful one-node form here; exporters emit Resize-11+ from opset 11 on.
      if (from < 11) {
        throw new Error(
          `${op} node '${node.name ?? base}' of opset ${from}: re-export the model with opset >= 11`,
        );
      }
      return node;
    case 'Dropout':
      // Before opset 12 `ratio` was an attribute; at inference it has no effect, so it is dropped.
      if (outputs.length > 1 && outputs[1]) {
        throw new Error(`Dropout node '${node.name ?? base}' exposes its mask output; not supported`);
      }
      return from < 12 ? keepAttrs(['ratio', 'is_test', 'seed']) : node;
    default:
      return node;
  }
}
