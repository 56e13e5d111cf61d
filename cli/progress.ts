import type { Client, WorkflowHandle } from '@temporalio/client';
import cliProgress from 'cli-progress';
import { layerProgressQuery } from '../workflows/layer.js';
import { referencesProgressQuery } from '../workflows/references.js';
import { progressQuery, type StageProgress, type sweepWorkflow } from '../workflows/sweep.js';

/** A readable short form of a tensor name for progress lines: its last two path segments. */
function shortLayer(name: string): string {
  return name.split('/').filter(Boolean).slice(-2).join('/') || name;
}

/**
 * Every stage of a sweep as bars: the sweep's own (references) and, per explained layer, the circuits and
 * clustering counts that its child workflow reports.
 */
export async function sweepStages(
  client: Client,
  handle: WorkflowHandle<typeof sweepWorkflow>,
): Promise<StageProgress[]> {
  const sweep = await handle.query(progressQuery);
  const stages = sweep.stages.map((s) => ({ ...s }));
  const references = stages.find((s) => s.stage === 'references');
  if (references && sweep.referencesWorkflowId && references.done < references.total) {
    // The shards run in a child workflow (its history stays bounded); it knows how many are done.
    try {
      const child = client.workflow.getHandle(sweep.referencesWorkflowId);
      references.done = (await child.query(referencesProgressQuery)).done;
    } catch {
      // not started yet, or just finished: the sweep's own count stands
    }
  }
  const layers = await Promise.all(
    sweep.layers.map(async (l) => {
      try {
        return await client.workflow.getHandle(l.workflowId).query(layerProgressQuery);
      } catch {
        return undefined; // not started yet
      }
    }),
  );
  sweep.layers.forEach((l, i) => {
    const p = layers[i];
    const neurons = p?.neurons ?? 0;
    stages.push(
      { stage: `circuits ${shortLayer(l.layer)}`, done: p?.circuits ?? 0, total: neurons, unit: 'neurons' },
      { stage: `clusters ${shortLayer(l.layer)}`, done: p?.clustered ?? 0, total: neurons, unit: 'neurons' },
    );
    if (p?.crops)
      stages.push({
        stage: `crops ${shortLayer(l.layer)}`,
        done: p.cropped,
        total: neurons,
        unit: 'neurons',
      });
    if (p?.evaluation) {
      stages.push({
        stage: `evaluation ${shortLayer(l.layer)}`,
        done: p.evaluated,
        total: neurons,
        unit: 'neurons',
      });
    }
  });
  return stages;
}

export interface ProgressView {
  update(stages: readonly StageProgress[]): void;
  stop(): void;
}

/**
 * Progress bars on a terminal; on a pipe or in CI (no TTY) one line when something changed, at most every
 * few seconds, so logs stay readable.
 */
export function progressView(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  if (stream.isTTY) {
    const multibar = new cliProgress.MultiBar(
      {
        stream,
        // Elapsed, not an ETA: stages wait on one another, so per-bar rates make misleading ETAs.
        format: ' {stage} |{bar}| {value}/{total} {unit} | {percentage}% | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    const bars = new Map<string, cliProgress.SingleBar>();
    return {
      update(stages) {
        const width = Math.max(...stages.map((s) => s.stage.length));
        for (const s of stages) {
          const payload = { stage: s.stage.padEnd(width), unit: s.unit };
          let bar = bars.get(s.stage);
          if (!bar) {
            bar = multibar.create(s.total, 0, payload);
            bars.set(s.stage, bar);
          }
          bar.setTotal(s.total);
          bar.update(s.done, payload);
        }
      },
      stop: () => multibar.stop(),
    };
  }
  let last = '';
  let lastAt = 0;
  return {
    update(stages) {
      const line = stages.map((s) => `${s.stage} ${s.done}/${s.total}`).join(', ');
      const complete = stages.every((s) => s.done >= s.total);
      const now = Date.now();
      if (line && line !== last && (now - lastAt > 5000 || complete)) {
        stream.write(`[pure] ${line}\n`);
        last = line;
        lastAt = now;
      }
    },
    stop() {},
  };
}

export interface Poller {
  /** Stops polling and waits for a refresh still in flight, so nothing touches a connection closed after it. */
  stop(): Promise<void>;
}

/**
 * Calls `refresh` every `everyMs`, never two at once; failures are ignored (the next tick retries).
 *
 * Why `stop` waits: the Temporal client retries a failed query on a timer of its own, and a retry that
 * fires after `connection.close()` throws "Channel has been shut down" from that timer, which no caller
 * can catch and which kills the process. A query can fail that way at the end of every sweep, when the
 * workers that answer queries shut down.
 */
export function startPolling(refresh: () => Promise<unknown>, everyMs: number): Poller {
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = refresh()
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        inFlight = undefined;
      });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
