/**
 * What the README's run command starts, in one place: the services, their ports and the environment each
 * gets. scripts/dev.ts runs it; the benchmarks (loadtest/lib/suite.ts) start the very same configuration,
 * so what they measure is what a user runs. Overrides come only from the caller's own environment. Also
 * where the run command's output goes (its log files and a terminal that never holds a service up).
 */
import { constants, createWriteStream, mkdirSync, openSync, writeSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { isatty } from 'node:tty';

// The Node flags and malloc settings each service runs with (NODE_OPTIONS, MALLOC_ARENA_MAX) are its
// image's, @eta/testing's SERVICE_RUNTIME_ENV, which its spawnService applies for the run command and the
// benchmarks alike.

export type SuiteService = 'geo' | 'ml-proxy' | 'vendor-bff';

export interface SuitePorts {
  readonly geo: number;
  readonly 'ml-proxy': number;
  readonly 'vendor-bff': number;
}

/** Started in this order; a service starts once those it calls are ready. */
export const SUITE_ORDER: readonly SuiteService[] = ['geo', 'ml-proxy', 'vendor-bff'];

export const SUITE_AFTER: Readonly<Record<SuiteService, readonly SuiteService[]>> = {
  geo: [],
  'ml-proxy': [],
  'vendor-bff': ['geo', 'ml-proxy'],
};

/**
 * The keys the run command sets for a service, over the service's own defaults (its config.ts). The BFF
 * serves every role and trusts the committed development key, which is what `pnpm dev:token` signs with.
 */
export function runCommandEnv(name: SuiteService, ports: SuitePorts): Record<string, string> {
  const common = { PORT: String(ports[name]), SHUTDOWN_DELAY_MS: '0' };
  if (name !== 'vendor-bff') return common;
  return {
    ...common,
    ROLE: 'all',
    GEO_URL: `http://127.0.0.1:${ports.geo}`,
    ML_PROXY_URL: `http://127.0.0.1:${ports['ml-proxy']}`,
    AUTH_DEV_KEYS: 'true',
  };
}

// ---------------------------------------------------------------------------------------------------
// Where the run command's output goes

/**
 * Each service's output, whole, one file per service and run (gitignored): `.run/logs/<service>.log`.
 * The terminal only shows what it can keep up with.
 */
export const SUITE_LOG_DIR = '.run/logs';

/**
 * The terminal side of the run command: shows what it is given unless its reader (a terminal, a pipe,
 * `| less`) has fallen behind by more than `maxPendingBytes`; then lines are dropped and counted, and a
 * notice says how many once the reader has caught up. It never blocks the event loop: a supervisor that
 * waits on its stdout stops reading its services' pipes, and then the services block on logging.
 */
export interface TerminalOutput {
  /**
   * False when `text` was dropped because the reader is behind. `always`: never dropped (the supervisor's
   * own few lines, like where the suite is); it waits for the reader like the rest, without blocking.
   */
  write(text: string, always?: boolean): boolean;
  /** Lines dropped so far. */
  readonly dropped: number;
  /** Bytes given to the reader's side and not taken by it yet. */
  readonly pendingBytes: number;
}

export interface TerminalOutputOptions {
  /** Default 256 KiB. */
  readonly maxPendingBytes?: number;
  /** The line shown once the reader has caught up after `dropped` lines were not shown. */
  readonly notice?: (dropped: number) => string;
}

const EAGAIN_RETRY_MS = 20;

/**
 * stdout as a TerminalOutput. A pipe or socket is written through `process.stdout`, which Node writes
 * without blocking on POSIX, bounded here by its queue. A terminal is the hard case: Node writes to a TTY
 * synchronously, so a terminal that stops reading (scrolled back, paused with Ctrl-S, a slow remote
 * session) would stall the whole process on one write. The terminal is therefore opened a second time,
 * non-blocking, through /proc/self/fd/1 (a new open file description, so the terminal's own mode, which
 * the shell shares, is untouched), and written in turns: what the terminal does not take now waits for
 * the next turn. A regular file is written as Node writes it (synchronously; a file does not stall).
 */
export function terminalOutput(opts: TerminalOutputOptions = {}): TerminalOutput {
  const maxPending = opts.maxPendingBytes ?? 256 * 1024;
  let dropped = 0;
  /** Dropped since the last notice. */
  let unreported = 0;

  const tty = isatty(1) ? openNonBlockingTerminal() : undefined;
  if (tty === undefined) {
    const out = process.stdout;
    let broken = false;
    // The reader went away (`| head`): the logs are in their files, the terminal gets nothing more.
    out.on('error', () => {
      broken = true;
    });
    let awaitingDrain = false;
    const onDrain = () => {
      awaitingDrain = false;
      if (unreported > 0 && opts.notice !== undefined && !broken) out.write(opts.notice(unreported));
      unreported = 0;
    };
    return {
      write(text, always = false) {
        if (broken || (out.writableLength > maxPending && !always)) {
          dropped += 1;
          unreported += 1;
          if (!awaitingDrain && !broken) {
            awaitingDrain = true;
            out.once('drain', onDrain);
          }
          return false;
        }
        out.write(text);
        return true;
      },
      get dropped() {
        return dropped;
      },
      get pendingBytes() {
        return out.writableLength;
      },
    };
  }

  const fd = tty;
  let queue: Buffer[] = [];
  let pending = 0;
  let scheduled = false;
  let broken = false;
  const schedule = (ms: number) => {
    if (scheduled) return;
    scheduled = true;
    if (ms === 0) setImmediate(pump);
    else setTimeout(pump, ms).unref();
  };
  const enqueue = (text: string) => {
    const buf = Buffer.from(text);
    queue.push(buf);
    pending += buf.length;
  };
  function pump(): void {
    scheduled = false;
    while (queue.length > 0 && !broken) {
      const chunk = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
      queue = [chunk];
      let written: number;
      try {
        written = writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          schedule(EAGAIN_RETRY_MS);
          return;
        }
        broken = true; // the terminal is gone (EIO, EPIPE): nothing more can be shown
        break;
      }
      pending -= written;
      queue = written < chunk.length ? [chunk.subarray(written)] : [];
      if (queue.length > 0) {
        schedule(EAGAIN_RETRY_MS);
        return;
      }
    }
    if (broken) {
      queue = [];
      pending = 0;
      return;
    }
    if (unreported > 0 && opts.notice !== undefined) {
      const text = opts.notice(unreported);
      unreported = 0;
      enqueue(text);
      schedule(0);
    }
    unreported = 0;
  }
  return {
    write(text, always = false) {
      if (broken || (pending > maxPending && !always)) {
        dropped += 1;
        unreported += 1;
        return false;
      }
      enqueue(text);
      schedule(0);
      return true;
    },
    get dropped() {
      return dropped;
    },
    get pendingBytes() {
      return pending;
    },
  };
}

/** The terminal on stdout opened again, non-blocking; undefined where that is not possible (not Linux). */
function openNonBlockingTerminal(): number | undefined {
  try {
    return openSync('/proc/self/fd/1', constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
}

/** Every line of every service: whole in its log file, and on the terminal as far as it keeps up. */
export interface LogRelay {
  /** The log file of a service (absolute path). */
  file(service: string): string;
  /** A line a service wrote (without its newline). */
  line(service: string, line: string): void;
  /** The supervisor's own words: terminal only, never dropped. */
  say(text: string): void;
  readonly terminal: TerminalOutput;
  /** Writes out and closes the log files. */
  close(): Promise<void>;
}

export interface LogRelayOptions {
  /** Folder of the log files (created; each run starts its files afresh). */
  readonly dir: string;
  readonly services: readonly string[];
  /** Default: stdout (`terminalOutput()`), with a notice that points at the files. */
  readonly terminal?: TerminalOutput;
}

export function createLogRelay(opts: LogRelayOptions): LogRelay {
  mkdirSync(opts.dir, { recursive: true });
  const files = new Map<string, { path: string; stream: WriteStream }>();
  for (const service of opts.services) {
    const path = join(opts.dir, `${service}.log`);
    const stream = createWriteStream(path, { flags: 'w' });
    // A full disk must not take the suite down; the terminal still shows what it can.
    stream.on('error', () => undefined);
    files.set(service, { path, stream });
  }
  const width = Math.max(0, ...opts.services.map((s) => s.length));
  const terminal =
    opts.terminal ??
    terminalOutput({
      notice: (n) =>
        `(${n} lines not shown: the terminal was not keeping up; every line is in ${opts.dir}/)\n`,
    });
  return {
    file(service) {
      const f = files.get(service);
      if (f === undefined) throw new Error(`no log file for ${service}`);
      return f.path;
    },
    line(service, line) {
      // Files are written in the background (libuv's thread pool): never a wait here.
      files.get(service)?.stream.write(`${line}\n`);
      terminal.write(`${service.padEnd(width)} | ${line}\n`);
    },
    say(text) {
      terminal.write(text, true);
    },
    terminal,
    async close() {
      await Promise.all(
        [...files.values()].map(({ stream }) => new Promise<void>((resolve) => stream.end(() => resolve()))),
      );
    },
  };
}
