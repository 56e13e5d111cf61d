/**
 * Gradient checking for backward graphs: the ORT-run backward graph (float32) against float64
 * central finite differences of the forward graph computed by the reference interpreter, along a
 * random direction per input and a random cotangent on the outputs.
 */

import { createSession, ort } from '../../../core/adapters/onnxruntime/session.js';
import { probeModel } from '../../../core/adapters/onnxruntime/shapes.js';
import { buildBackward } from '../../../core/compute/attribution/backward.js';
import {
  GraphIndex,
  graphOf,
  type ModelProto,
  makeNode,
  onnx,
  valueInfo,
} from '../../../core/compute/onnx/model.js';
import { type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { concreteDims } from '../../../core/compute/onnx/tensor-info.js';
import { evaluate } from '../../support/interpreter/index.js';
import { seededRandom } from '../../support/random.js';

export interface GradCheckOptions {
  /** Tensors to differentiate with respect to (float graph inputs). */
  readonly wrt: readonly string[];
  /** Output tensors that receive a random cotangent. */
  readonly outputs: readonly string[];
  /** Values of every graph input (batch already chosen). */
  readonly feeds: Readonly<Record<string, Tensor>>;
  readonly seed?: number;
  /** The batch size of the feeds (the size of every `'N'` dimension). */
  readonly batch: number;
  /** Finite-difference step (float64). */
  readonly step?: number;
}

export interface GradCheckResult {
  /** Per wrt input: the directional derivative from the backward graph and from differences. */
  readonly rows: readonly { name: string; backward: number; finite: number; relativeError: number }[];
}

/** Uniform samples in [lo, hi) with a random sign when `signed`, never closer than `lo` to zero. */
export function sampleAwayFromZero(rand: () => number, n: number, lo = 0.2, hi = 1.5): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rand()));
}

export async function gradCheck(model: ModelProto, options: GradCheckOptions): Promise<GradCheckResult> {
  const rand = seededRandom(options.seed ?? 7);
  const graph = graphOf(model);
  const index = new GraphIndex(graph);
  const probe = await probeModel(model);
  const batch = options.batch;

  // Cotangents on the outputs, fed as seed inputs of the backward graph.
  const cotangents = new Map<string, Tensor>();
  for (const name of options.outputs) {
    const dims = concreteDims(probe.info.get(name)!, batch);
    const n = dims.reduce((a, b) => a * b, 1);
    cotangents.set(
      name,
      tensor(
        'float32',
        dims,
        Float32Array.from({ length: n }, () => rand() * 2 - 1),
      ),
    );
  }
  const seeds = options.outputs.map((name) => ({ tensor: name, gradient: `seed:${name}` }));
  const backward = buildBackward({
    nodes: index.nodes,
    initializers: index.initializers,
    info: probe.info,
    seeds,
    wrt: options.wrt,
    opset: Number(model.opsetImport?.[0]?.version ?? 17),
  });
  const gradOutputs = options.wrt.map((name) => `grad:${name}`);
  const renames = options.wrt.map((name, k) =>
    makeNode('Identity', [backward.gradients.get(name)!], [gradOutputs[k]!]),
  );
  const backwardModel = onnx.ModelProto.create({
    ...model,
    graph: {
      ...graph,
      node: [...(graph.node ?? []), ...backward.nodes, ...renames],
      initializer: [...(graph.initializer ?? []), ...backward.initializers],
      input: [...(graph.input ?? []), ...seeds.map((s) => valueInfo(s.gradient, 1))],
      output: gradOutputs.map((name) => valueInfo(name, 1)),
    },
  });
  const session = await createSession(backwardModel, { intraOpNumThreads: 1 });
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(options.feeds)) {
    feeds[name] = new ort.Tensor(t.dtype === 'int64' ? 'int64' : 'float32', t.data as Float32Array, [
      ...t.dims,
    ]);
  }
  for (const [name, t] of cotangents)
    feeds[`seed:${name}`] = new ort.Tensor('float32', t.data as Float32Array, [...t.dims]);
  const result = await session.run(feeds);
  await session.release();

  const step = options.step ?? 1e-6;
  const rows = options.wrt.map((name) => {
    const x = options.feeds[name]!;
    const direction = Float64Array.from({ length: x.data.length }, () => rand() * 2 - 1);
    const grad = result[`grad:${name}`]!.data as Float32Array;
    let backwardValue = 0;
    for (let i = 0; i < direction.length; i++) backwardValue += grad[i]! * direction[i]!;
    const shifted = (sign: number) => {
      const data = Float64Array.from(x.data as Float32Array, (v, i) => v + sign * step * direction[i]!);
      const f = evaluate(
        graph,
        { ...options.feeds, [name]: tensor('float64', x.dims, data) },
        options.outputs,
        {
          float64: true,
        },
      );
      let dot = 0;
      for (const out of options.outputs) {
        const values = f[out]!.data as Float64Array;
        const v = cotangents.get(out)!.data as Float32Array;
        for (let i = 0; i < v.length; i++) dot += values[i]! * v[i]!;
      }
      return dot;
    };
    const finite = (shifted(1) - shifted(-1)) / (2 * step);
    const relativeError = Math.abs(backwardValue - finite) / Math.max(Math.abs(finite), 1e-6);
    return { name, backward: backwardValue, finite, relativeError };
  });
  return { rows };
}
