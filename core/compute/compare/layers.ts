/**
 * What two runs have in common: the layers both explain, and for each whether its circuits can be compared.
 * A circuit is a vector over the lower layer's channels, so two runs' circuits are comparable only when the
 * lower layer is the same tensor with the same number of channels; otherwise only references are.
 */

/** A layer of a run as the comparison needs it. */
export interface LayerShape {
  layer: string;
  /** Neurons with references (the layer's channels). */
  neurons: number;
  /** The layer its circuits run over, and their length; null for the first layer (references only). */
  lowerLayer: string | null;
  circuitWidth: number | null;
}

/** One layer both runs have, and what of it is compared. */
export interface LayerPlan {
  layer: string;
  neuronsA: number;
  neuronsB: number;
  /** Neurons 0..compared-1 are compared: those both runs have. */
  compared: number;
  /** Circuits and cluster counts are compared (same lower layer, same width, explained in both). */
  sameCircuitSpace: boolean;
  lowerLayer: string | null;
  /** Why something is not compared, in words; null when everything is. */
  note: string | null;
}

export interface ComparisonPlan {
  /** The runs saw the same images (same sample ids): references and their values are compared. */
  sameImages: boolean;
  /** The common layers, in run B's order. */
  layers: LayerPlan[];
  onlyInA: string[];
  onlyInB: string[];
}

/** The plan for comparing run A (the earlier) with run B, from their layers in --layers order. */
export function planComparison(
  a: readonly LayerShape[],
  b: readonly LayerShape[],
  sameImages: boolean,
): ComparisonPlan {
  const byNameA = new Map(a.map((l) => [l.layer, l]));
  const namesB = new Set(b.map((l) => l.layer));
  const layers = b.flatMap((lb) => {
    const la = byNameA.get(lb.layer);
    return la ? [planLayer(la, lb)] : [];
  });
  return {
    sameImages,
    layers,
    onlyInA: a.filter((l) => !namesB.has(l.layer)).map((l) => l.layer),
    onlyInB: b.filter((l) => !byNameA.has(l.layer)).map((l) => l.layer),
  };
}

function planLayer(a: LayerShape, b: LayerShape): LayerPlan {
  const circuitNote = circuitSpaceNote(a, b);
  const notes = [
    circuitNote,
    a.neurons !== b.neurons
      ? `${a.neurons} neurons in A, ${b.neurons} in B: the first ${Math.min(a.neurons, b.neurons)} compared`
      : null,
  ].filter((n): n is string => n !== null);
  return {
    layer: b.layer,
    neuronsA: a.neurons,
    neuronsB: b.neurons,
    compared: Math.min(a.neurons, b.neurons),
    sameCircuitSpace: circuitNote === null,
    lowerLayer: b.lowerLayer ?? a.lowerLayer,
    note: notes.length > 0 ? notes.join('; ') : null,
  };
}

/** Why the two layers' circuits cannot be compared, or null when they can. */
function circuitSpaceNote(a: LayerShape, b: LayerShape): string | null {
  if (a.lowerLayer === null && b.lowerLayer === null) return 'first layer: references only';
  if (a.lowerLayer === null || b.lowerLayer === null) {
    return `circuits only in ${a.lowerLayer === null ? 'B' : 'A'}: references only`;
  }
  if (a.lowerLayer !== b.lowerLayer) {
    return `circuits over ${a.lowerLayer} in A, ${b.lowerLayer} in B: references only`;
  }
  if (a.circuitWidth !== b.circuitWidth) {
    return `${a.lowerLayer} has ${a.circuitWidth} channels in A, ${b.circuitWidth} in B: references only`;
  }
  return null;
}
