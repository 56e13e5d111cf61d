import { Context } from '@temporalio/activity';
import { createCircuitActivities } from './circuits.js';
import { withHeartbeat } from './io.js';
import { createReferenceActivities } from './references.js';
import { createScheduleActivities } from './schedule.js';
import { createVirtualNeuronActivities } from './virtual-neurons.js';

export interface ActivitiesOptions {
  /** onnxruntime intra-op threads per session (default: all cores). */
  threads?: number;
}

/** Every activity of a sweep, each kept alive by a periodic heartbeat (see withHeartbeat). */
export function createActivities(options: ActivitiesOptions = {}) {
  const threads = options.threads ? { threads: options.threads } : {};
  const activities = {
    ...createReferenceActivities(threads),
    ...createCircuitActivities(threads),
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
