/**
 * The steps of the method, in order (docs/design.md "The method"). A module of its own with no imports,
 * so workflows (which may not import Node built-ins) can decide which stages a sweep runs.
 */
export const SWEEP_STAGES = ['references', 'virtual-neurons', 'crops', 'evaluation'] as const;
export type SweepStage = (typeof SWEEP_STAGES)[number];

/** Whether a sweep runs `stage`: it is not past `until`, and evaluation needs an evaluator. */
export function runsStage(
  config: { readonly until: SweepStage; readonly evaluator?: unknown },
  stage: SweepStage,
): boolean {
  if (SWEEP_STAGES.indexOf(stage) > SWEEP_STAGES.indexOf(config.until)) return false;
  return stage !== 'evaluation' || config.evaluator !== undefined;
}
