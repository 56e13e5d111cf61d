/**
 * Ctrl-C (and SIGTERM, SIGHUP) for `pure run`. While a sweep is followed, the first signal asks the run
 * to stop cleanly (cli/run.ts says what was left and how to resume); a second one, or a signal at any
 * other moment, exits at once with the usual code, after the 'exit' handlers (which stop an embedded
 * Temporal server: it runs in its own process group, so the terminal's signal does not reach it).
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let stopRequested: (() => void) | undefined;
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  const stop = stopRequested;
  stopRequested = undefined;
  if (stop) {
    process.stderr.write('\n[pure] stopping (press Ctrl-C again to quit at once)\n');
    stop();
    return;
  }
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/** Replaces Node's default (die without 'exit' handlers) for the rest of the process. */
export function installInterruptHandler(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

export interface Interruptions {
  /** Resolves with 'interrupted' at the first signal while this is in force. */
  readonly signalled: Promise<'interrupted'>;
  dispose(): void;
}

/** The next signal becomes a request to stop; without installInterruptHandler it is not delivered. */
export function interruptions(): Interruptions {
  let resolveSignalled!: (value: 'interrupted') => void;
  const signalled = new Promise<'interrupted'>((r) => {
    resolveSignalled = r;
  });
  stopRequested = () => resolveSignalled('interrupted');
  return {
    signalled,
    dispose() {
      stopRequested = undefined;
    },
  };
}
