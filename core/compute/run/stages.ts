/**
 * The steps of the method, in order (docs/design.md "The method"). A module of its own with no imports,
 * so workflows (which may not import Node built-ins) can decide which stages a sweep runs.
 */
export const SWEEP_STAGES = ['references', 'virtual-neurons', 'crops', 'evaluation'] as const;
export type SweepStage = (typeof SWEEP_STAGES)[number];

/**
 * Whether a sweep runs `stage`: it is not past `until`, and the evaluation needs an evaluator. The crops
 * are what the evaluation embeds: they run with an evaluator, or when asked for (`--until crops`), so a
 * sweep without an evaluator costs what it did before step 4 existed (a crop is one heatmap per
 * reference, through the whole model below the layer).
 */
export function runsStage(
  config: { readonly until: SweepStage; readonly evaluator?: unknown },
  stage: SweepStage,
): boolean {
  if (SWEEP_STAGES.indexOf(stage) > SWEEP_STAGES.indexOf(config.until)) return false;
  if (stage === 'evaluation') return config.evaluator !== undefined;
  if (stage === 'crops') return config.evaluator !== undefined || config.until === 'crops';
  return true;
}
