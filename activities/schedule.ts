import { ApplicationFailure } from '@temporalio/common';
import type { SweepConfig } from '../core/compute/run/config.js';
import { configureSweep, type SweepRequest } from '../core/stages/configure.js';

/**
 * For scheduled sweeps: the request stored in a schedule becomes a fresh SweepConfig at every firing, so
 * each night's run reads the checkpoint that is there that night (its digest names the run).
 */
export function createScheduleActivities() {
  async function configureScheduledSweep(request: SweepRequest): Promise<SweepConfig> {
    try {
      return await configureSweep(request);
    } catch (error) {
      // A bad request (unknown layer, unreadable model) will not get better by retrying tonight.
      throw ApplicationFailure.nonRetryable((error as Error).message, 'InvalidSweepRequest');
    }
  }
  return { configureScheduledSweep };
}

export type ScheduleActivities = ReturnType<typeof createScheduleActivities>;
