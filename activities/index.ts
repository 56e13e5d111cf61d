import { Context } from '@temporalio/activity';
import type { InferenceSettings } from '../core/adapters/onnxruntime/session.js';
import { withProgressClock } from '../core/adapters/progress.js';
import { createCpuActivities } from './cpu.js';
import { asTemporalFailure } from './failures.js';
import { createInferenceActivities } from './inference.js';
import { withHeartbeat } from './io.js';

export type { CpuActivities } from './cpu.js';
export type { InferenceActivities } from './inference.js';

/**
 * The activities of each task queue, each kept alive by a periodic heartbeat (see withHeartbeat) and
 * failing without retries on bad input (see asTemporalFailure). A worker registers one queue's set on
 * that queue only, so an activity scheduled on the wrong queue cannot silently run there.
 */
export const activitiesOf = {
  inference: (settings: InferenceSettings = {}) => wrapped(createInferenceActivities(settings)),
  cpu: () => wrapped(createCpuActivities()),
} as const;

/** Any one-argument activity: `never` accepts every parameter type without `any`. */
type Activity = (input: never) => Promise<unknown>;

function wrapped<T extends Record<string, Activity>>(activities: T): T {
  const out: Record<string, Activity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    out[name] = async (input: never) => {
      const context = Context.current();
      // A cancelled activity (worker shutting down, sweep terminated) stops now instead of finishing
      // work whose result nobody will take; its output is written atomically, so nothing half-done stays.
      context.cancelled.catch(() => undefined);
      try {
        return await Promise.race([
          withProgressClock((lastProgress) =>
            withHeartbeat(
              (details) => context.heartbeat(details),
              () => activity(input),
              { lastProgress },
            ),
          ),
          context.cancelled,
        ]);
      } catch (error) {
        throw asTemporalFailure(error);
      }
    };
  }
  return out as T;
}
