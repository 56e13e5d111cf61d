/**
 * Sliding-window geometry shared by Conv and the pools: resolving auto_pad, and the ConvTranspose
 * settings that make a window op's adjoint land exactly on the input's shape.
 */

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

export interface WindowSpec {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly autoPad: AutoPad;
  /** Explicit pads [begin..., end...] (ignored unless autoPad is NOTSET). */
  readonly pads: readonly number[];
}

export function parseAutoPad(value: string, where: string): AutoPad {
  switch (value) {
    case '':
    case 'NOTSET':
      return 'NOTSET';
    case 'SAME_UPPER':
    case 'SAME_LOWER':
    case 'VALID':
      return value;
    default:
      throw new Error(`${where}: unknown auto_pad '${value}'`);
  }
}

/** The explicit pads [begin..., end...] the op used for these input and output spatial sizes. */
export function resolvePads(
  spec: WindowSpec,
  inSizes: readonly number[],
  outSizes: readonly number[],
): number[] {
  const rank = inSizes.length;
  const begin: number[] = [];
  const end: number[] = [];
  for (let a = 0; a < rank; a++) {
    const autoPad = spec.autoPad;
    switch (autoPad) {
      case 'NOTSET':
        begin.push(spec.pads[a] ?? 0);
        end.push(spec.pads[a + rank] ?? 0);
        break;
      case 'VALID':
        begin.push(0);
        end.push(0);
        break;
      case 'SAME_UPPER':
      case 'SAME_LOWER': {
        const extent = (spec.kernel[a]! - 1) * spec.dilations[a]! + 1;
        const total = Math.max(0, (outSizes[a]! - 1) * spec.strides[a]! + extent - inSizes[a]!);
        const small = Math.floor(total / 2);
        begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
        end.push(autoPad === 'SAME_UPPER' ? total - small : small);
        break;
      }
      default: {
        const never: never = autoPad;
        throw new Error(`unknown auto_pad ${String(never)}`);
      }
    }
  }
  return [...begin, ...end];
}

/**
 * ConvTranspose attributes that invert the window op's geometry: same strides, dilations and begin
 * pads; output_padding adds the trailing input rows no window reached; extra end padding crops the
 * rows that ceil_mode windows hung past the input.
 */
export function transposeGeometry(
  spec: WindowSpec,
  inSizes: readonly number[],
  outSizes: readonly number[],
): { pads: number[]; outputPadding: number[] } {
  const rank = inSizes.length;
  const pads = resolvePads(spec, inSizes, outSizes);
  const outputPadding: number[] = [];
  for (let a = 0; a < rank; a++) {
    const extent = (spec.kernel[a]! - 1) * spec.dilations[a]! + 1;
    const produced = (outSizes[a]! - 1) * spec.strides[a]! + extent - pads[a]! - pads[a + rank]!;
    const missing = inSizes[a]! - produced;
    if (missing >= 0) {
      outputPadding.push(missing);
    } else {
      outputPadding.push(0);
      pads[a + rank] = pads[a + rank]! - missing;
    }
  }
  return { pads, outputPadding };
}

/**
 * How many input elements each output window of an average pool divides by, flattened over the
 * output's spatial positions (row-major). With count_include_pad the padded border counts, but not
 * what a ceil_mode window hangs past the padding.
 */
export function poolDivisors(
  spec: WindowSpec,
  inSizes: readonly number[],
  outSizes: readonly number[],
  countIncludePad: boolean,
): Float32Array {
  const rank = inSizes.length;
  const pads = resolvePads(spec, inSizes, outSizes);
  const perAxis = inSizes.map((size, a) => {
    const lo = countIncludePad ? -pads[a]! : 0;
    const hi = countIncludePad ? size + pads[a + rank]! : size;
    return Array.from({ length: outSizes[a]! }, (_, o) => {
      let count = 0;
      for (let t = 0; t < spec.kernel[a]!; t++) {
        const p = o * spec.strides[a]! - pads[a]! + t * spec.dilations[a]!;
        if (p >= lo && p < hi) count++;
      }
      return count;
    });
  });
  const total = outSizes.reduce((x, y) => x * y, 1);
  const out = new Float32Array(total);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let product = 1;
    for (let a = rank - 1; a >= 0; a--) {
      const o = rest % outSizes[a]!;
      rest = Math.floor(rest / outSizes[a]!);
      product *= perAxis[a]![o]!;
    }
    out[flat] = product;
  }
  return out;
}
