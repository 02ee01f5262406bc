import { endProcess } from '@eta/config';
import type { ServiceApp } from './build-service.ts';
import { Deadline } from './deadline.ts';

/** Where termination signals and fatal process errors come from; `process` in production. */
export interface ProcessEvents {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface RunServiceOptions {
  readonly port: number;
  readonly host: string;
  /**
   * How long to keep serving after readiness fails, so the endpoint controller and every kube-proxy
   * stop routing here before the listener closes (conventions: drain, then exit). SHUTDOWN_DELAY_MS.
   * Open keep-alive connections are not rerouted by that: during the delay every answer says
   * `Connection: close` (buildService), so each connection that carries a request is moved off by its
   * answer. The delay must be long enough for every client to send once (seconds, not milliseconds).
   */
  readonly shutdownDelayMs: number;
  /** Upper bound on `app.close()` (in-flight requests, adapters); exit 1 past it. SHUTDOWN_TIMEOUT_MS. */
  readonly shutdownTimeoutMs: number;
  /** Longest the app's warm-ups (app.warmUps) may hold back listening, in all. Default 60 s. */
  readonly warmUpTimeoutMs?: number;
  /** Injected in tests so no real signal and no real exit are needed. */
  readonly events?: ProcessEvents;
  readonly exit?: (code: number) => void;
}

/**
 * Runs the app's warm-ups one after another, each under what is left of `timeoutMs`. A warm-up that fails
 * or runs out of time is logged and start-up goes on: a cold pod still answers, only slower.
 */
export async function runWarmUps(app: ServiceApp, timeoutMs: number): Promise<void> {
  const deadline = Deadline.after(timeoutMs);
  for (const w of app.warmUps) {
    if (deadline.remainingMs() <= 0) {
      app.log.warn({ warmUp: w.name }, 'warm-up skipped: no time left');
      continue;
    }
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        w.run(deadline),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('warm-up ran out of time')), deadline.remainingMs());
        }),
      ]);
      app.log.info({ warmUp: w.name, ms: Math.round(performance.now() - started) }, 'warm-up done');
    } catch (err) {
      app.log.warn({ err, warmUp: w.name }, 'warm-up failed; starting anyway');
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A service's parsed settings for listening and shutdown: PORT from its own schema, the rest from baseServiceEnv. */
export interface ServiceRunConfig {
  readonly PORT: number;
  readonly HOST: string;
  readonly SHUTDOWN_DELAY_MS: number;
  readonly SHUTDOWN_TIMEOUT_MS: number;
}

/** runService's options from a service's config, so each main.ts does not map the four settings itself. */
export function runOptionsFrom(config: ServiceRunConfig): RunServiceOptions {
  return {
    port: config.PORT,
    host: config.HOST,
    shutdownDelayMs: config.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  };
}

export interface RunningService {
  /** `http://host:port` actually bound (port 0 in tests picks a free one). */
  readonly url: string;
  readonly port: number;
  /** Starts the same drain as SIGTERM; resolves with the exit code once closed. */
  shutdown(reason?: string): Promise<number>;
  /** Resolves with the exit code passed to `exit` after the service stopped. */
  readonly stopped: Promise<number>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Listens and owns the process lifecycle: on SIGTERM or SIGINT readiness fails at once, the service
 * keeps serving for `shutdownDelayMs` with `Connection: close` on every answer (keep-alive clients move
 * to other pods without losing a request), then `app.close()` closes the listener and the keep-alive
 * sockets nobody used during the delay, answers the requests in flight, and runs onClose hooks (adapters
 * close there), and the process exits 0. A second signal exits 1 at once; an uncaught exception or
 * unhandled rejection closes without the delay and exits 1.
 */
export async function runService(app: ServiceApp, opts: RunServiceOptions): Promise<RunningService> {
  const events: ProcessEvents = opts.events ?? process;
  // After a drain the event loop is (nearly) empty, so the process ends by draining (endProcess): the same
  // time as process.exit() in a measurement of all three services, without its deadlock with V8's
  // background compiler (nodejs/node#54918). A second signal, a fatal error while stopping, or a failed
  // listen mean "now": process.exit().
  const exit = opts.exit ?? ((code: number) => endProcess(code));
  const exitNow = opts.exit ?? ((code: number) => process.exit(code));
  const log = app.log;

  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<number> | undefined;
  let exited = false;

  function finish(code: number, now = false): void {
    if (exited) return;
    exited = true;
    for (const [signal, listener] of signalListeners) events.off(signal, listener);
    events.off('uncaughtException', onFatal);
    events.off('unhandledRejection', onFatal);
    resolveStopped(code);
    (now ? exitNow : exit)(code);
  }

  async function closeWithin(timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([app.close().then(() => 'closed' as const), timedOut]);
      if (outcome === 'timeout') {
        // What held it: the listener still waiting for connections (then no step has started), or a step.
        const progress = app.closeProgress();
        log.error(
          { timeoutMs, ...progress },
          'shutdown timed out; exiting with requests or adapters still open',
        );
        return 1;
      }
      const { steps } = app.closeProgress();
      log.info({ steps }, 'closed');
      return 0;
    } catch (err) {
      log.error({ err, steps: app.closeProgress().steps }, 'error while closing');
      return 1;
    } finally {
      clearTimeout(timer);
    }
  }

  function shutdown(reason = 'shutdown requested', { delayMs = opts.shutdownDelayMs, code = 0 } = {}) {
    if (stopping) return stopping;
    app.readiness.beginShutdown();
    log.info(
      { reason, delayMs, timeoutMs: opts.shutdownTimeoutMs },
      'shutting down: readiness failed, draining',
    );
    stopping = (async () => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const closeCode = await closeWithin(opts.shutdownTimeoutMs);
      const exitCode = Math.max(code, closeCode);
      log.info({ exitCode }, 'stopped');
      finish(exitCode);
      return exitCode;
    })();
    return stopping;
  }

  function onSignal(signal: NodeJS.Signals): void {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now without draining');
      finish(1, true);
      return;
    }
    void shutdown(signal);
  }

  function onFatal(err: unknown): void {
    log.fatal({ err }, 'fatal error: closing and exiting');
    if (stopping) {
      finish(1, true);
      return;
    }
    // The process state is unknown after an uncaught error: skip the drain delay, keep the close bound.
    void shutdown('fatal error', { delayMs: 0, code: 1 });
  }

  const signalListeners = SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, listener] of signalListeners) events.on(signal, listener);
  events.on('uncaughtException', onFatal);
  events.on('unhandledRejection', onFatal);

  await runWarmUps(app, opts.warmUpTimeoutMs ?? 60_000);
  try {
    await app.listen({ port: opts.port, host: opts.host });
  } catch (err) {
    log.fatal({ err, port: opts.port, host: opts.host }, 'could not listen');
    await closeWithin(opts.shutdownTimeoutMs);
    finish(1, true);
    throw err;
  }

  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return { url: `http://${host}:${port}`, port, shutdown: (reason) => shutdown(reason), stopped };
}
