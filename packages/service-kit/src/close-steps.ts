/**
 * What a closing service has done and what it still waits for. `app.close()` first closes the listener
 * and waits for every connection to finish its answer, then runs the onClose hooks; a shutdown that runs
 * past SHUTDOWN_TIMEOUT_MS is only fixable when its log says which of those it was stuck in. Services
 * register their closes as named steps (`app.closeStep`); runService logs this progress with a timeout,
 * and each step's time with a clean stop.
 */
export type CloseStepState = 'waiting' | 'running' | 'done' | 'failed';

export interface CloseStepProgress {
  readonly name: string;
  readonly state: CloseStepState;
  /** How long it ran (done, failed) or has been running (running); absent while waiting. */
  readonly ms?: number;
}

export interface CloseProgress {
  /** The listener closed and every connection ended (the onClose hooks start after that). */
  readonly serverClosed: boolean;
  /** Open TCP connections to the listener. */
  readonly connections: number;
  /** Requests admitted and not answered yet (the in-flight gauge). */
  readonly requestsInFlight: number;
  readonly steps: readonly CloseStepProgress[];
}

export interface CloseSteps {
  /** Wraps a close so its start, end and time are known; the order of registration is kept. */
  wrap(name: string, close: () => unknown): () => Promise<void>;
  progress(): readonly CloseStepProgress[];
}

export function createCloseSteps(now: () => number = () => performance.now()): CloseSteps {
  const steps: { name: string; state: CloseStepState; startedAt?: number; ms?: number }[] = [];
  return {
    wrap(name, close) {
      const step: (typeof steps)[number] = { name, state: 'waiting' };
      steps.push(step);
      return async () => {
        const startedAt = now();
        step.startedAt = startedAt;
        step.state = 'running';
        try {
          await close();
          step.state = 'done';
        } catch (err) {
          step.state = 'failed';
          throw err;
        } finally {
          step.ms = now() - startedAt;
        }
      };
    },
    progress() {
      const at = now();
      return steps.map((s) => {
        const ms = s.state === 'running' && s.startedAt !== undefined ? at - s.startedAt : s.ms;
        return ms === undefined
          ? { name: s.name, state: s.state }
          : { name: s.name, state: s.state, ms: Math.round(ms) };
      });
    },
  };
}
