import { Context } from '@temporalio/activity';
import type { InferenceSettings } from '../core/adapters/onnxruntime/session.js';
import { createCircuitActivities } from './circuits.js';
import { withHeartbeat } from './io.js';
import { createReferenceActivities } from './references.js';
import { createScheduleActivities } from './schedule.js';
import { createVirtualNeuronActivities } from './virtual-neurons.js';

/** How this worker runs onnxruntime: threads and device. */
export type ActivitiesOptions = InferenceSettings;

/** Every activity of a sweep, each kept alive by a periodic heartbeat (see withHeartbeat). */
export function createActivities(options: ActivitiesOptions = {}) {
  const activities = {
    ...createReferenceActivities(options),
    ...createCircuitActivities(options),
    ...createVirtualNeuronActivities(),
    ...createScheduleActivities(),
  };
  return keepAlive(activities);
}

/** Any one-argument activity: `never` accepts every parameter type without `any`. */
type Activity = (input: never) => Promise<unknown>;

function keepAlive<T extends Record<string, Activity>>(activities: T): T {
  const wrapped: Record<string, Activity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = (input: never) => {
      const context = Context.current();
      return withHeartbeat(
        (details) => context.heartbeat(details),
        () => activity(input),
      );
    };
  }
  return wrapped as T;
}

export type PureActivities = ReturnType<typeof createActivities>;
