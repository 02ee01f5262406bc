import type { ErrorDetail } from '@eta/contracts';

export type ReadinessCheck = () => Promise<void> | void;

export interface ReadinessReport {
  readonly ready: boolean;
  readonly shuttingDown: boolean;
  readonly failures: readonly ErrorDetail[];
  readonly checks: Readonly<Record<string, 'ok' | 'failed' | 'timeout'>>;
}

/**
 * Pluggable readiness checks for `/readyz`. Adapters add one when created (`redis`: PING, `model`:
 * loaded), so the probe reflects exactly the dependencies this process uses.
 */
export interface Readiness {
  /** Registers a check; it is ready when it resolves and not ready when it throws or times out. */
  add(name: string, check: ReadinessCheck): void;
  /** Runs every check in parallel, each bounded by the check timeout. */
  run(): Promise<ReadinessReport>;
  /**
   * Fails readiness for good: the pod is about to drain and must leave the Service's endpoints. From
   * then on buildService answers every request with `Connection: close`, so keep-alive clients move off.
   */
  beginShutdown(): void;
  readonly shuttingDown: boolean;
}

export interface ReadinessCheckFailure {
  readonly name: string;
  readonly err: unknown;
}

export function createReadiness(
  checkTimeoutMs: number,
  onFailure: (failure: ReadinessCheckFailure) => void,
): Readiness {
  const checks = new Map<string, ReadinessCheck>();
  // Probes run every few seconds (and every 100 ms from local supervisors): a check that stays down is
  // reported once when it goes down, not on every probe, so the log shows the change, not the polling.
  const failing = new Set<string>();
  let shuttingDown = false;

  function failed(name: string, err: unknown): void {
    if (failing.has(name)) return;
    failing.add(name);
    onFailure({ name, err });
  }

  async function runOne(name: string, check: ReadinessCheck): Promise<'ok' | 'failed' | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), checkTimeoutMs);
    });
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(check)
          .then(() => 'ok' as const),
        timeout,
      ]);
      if (outcome === 'timeout') failed(name, new Error(`timed out after ${checkTimeoutMs} ms`));
      else failing.delete(name);
      return outcome;
    } catch (err) {
      failed(name, err);
      return 'failed';
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    add(name, check) {
      if (checks.has(name)) throw new Error(`readiness check "${name}" is already registered`);
      checks.set(name, check);
    },
    async run() {
      const entries = [...checks];
      const outcomes = await Promise.all(entries.map(([name, check]) => runOne(name, check)));
      const result: Record<string, 'ok' | 'failed' | 'timeout'> = {};
      const failures: ErrorDetail[] = [];
      entries.forEach(([name], i) => {
        const outcome = outcomes[i] ?? 'failed';
        result[name] = outcome;
        if (outcome !== 'ok') {
          failures.push({
            path: name,
            message: outcome === 'timeout' ? `timed out after ${checkTimeoutMs} ms` : 'check failed',
          });
        }
      });
      return { ready: failures.length === 0 && !shuttingDown, shuttingDown, failures, checks: result };
    },
    beginShutdown() {
      shuttingDown = true;
    },
    get shuttingDown() {
      return shuttingDown;
    },
  };
}
