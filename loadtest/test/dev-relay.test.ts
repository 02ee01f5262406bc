// Issue 12, defect 7: `pnpm start` (scripts/dev.ts) relayed every service's output through its own
// stdout, and when whatever read that was slow the services blocked on logging and shed load. The
// supervisor's relay (scripts/suite.ts: createLogRelay) must never hold a service up: each line goes whole
// to the service's log file, and to stdout only as far as stdout is being read.
//
// A miniature supervisor (fixtures/relay-supervisor.ts: spawnService + the relay, as dev.ts does) runs a
// service that logs LINES lines and then exits by itself, which its process can only do once every line
// has left its stdout. The supervisor's stdout is a pipe nobody reads, or a terminal nobody reads (a pty
// from script(1) whose own output nobody reads). Reports come back over TCP, since stdout is under test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const SUPERVISOR = fileURLToPath(new URL('./fixtures/relay-supervisor.ts', import.meta.url));
/** About 6 MB of JSON lines: far more than any pipe, socket or terminal buffer between here and a reader. */
const LINES = 40_000;
/** The relay's default bound on what it keeps for a reader that is behind (terminalOutput). */
const MAX_PENDING = 256 * 1024;

type Report = Record<string, unknown> & { event: string };

interface Run {
  /** Resolves with the report of that event; never, if it never comes (the test then times out). */
  next(event: string): Promise<Report>;
  readonly logDir: string;
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const kill = (pid: unknown) => {
  if (typeof pid !== 'number') return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

async function runSupervisor(stdout: 'pipe' | 'terminal'): Promise<Run> {
  const reports: Report[] = [];
  const waiting = new Map<string, (r: Report) => void>();
  const server: Server = createServer((socket) => {
    createInterface({ input: socket }).on('line', (line) => {
      const report = JSON.parse(line) as Report;
      reports.push(report);
      waiting.get(report.event)?.(report);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const logDir = mkdtempSync(join(tmpdir(), 'eta-dev-relay-'));
  const env = { ...process.env, REPORT_PORT: String(address.port), LOG_DIR: logDir, LINES: String(LINES) };

  const supervisor = `'${process.execPath}' '${SUPERVISOR}'`;
  const proc: ChildProcess =
    stdout === 'pipe'
      ? spawn(process.execPath, [SUPERVISOR], { env, stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('script', ['-q', '-c', supervisor, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  // Nobody ever reads proc.stdout: once its buffers are full, whatever writes into it must wait or drop.

  cleanups.push(async () => {
    const ready = reports.find((r) => r.event === 'ready');
    kill(ready?.['pid']);
    kill(ready?.['supervisor']);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await once(proc, 'exit');
    }
    server.close();
    rmSync(logDir, { recursive: true, force: true });
  });
  return {
    logDir,
    next: (event) => {
      const seen = reports.find((r) => r.event === event);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiting.set(event, resolve));
    },
  };
}

/** The service's log file has every line it wrote, in order. */
function expectWholeLog(logDir: string): void {
  const lines = readFileSync(join(logDir, 'chatty.log'), 'utf8').trimEnd().split('\n');
  expect(lines).toHaveLength(LINES);
  lines.forEach((text, i) => {
    if ((JSON.parse(text) as { line: number }).line !== i) expect.fail(`line ${i} of the log file: ${text}`);
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('regression: the run command relays service logs through its stdout, and a slow reader blocks the services', () => {
  it('stdout a pipe nobody reads: the service logs every line and exits; the relay keeps a bounded amount for stdout and drops the rest', async () => {
    const run = await runSupervisor('pipe');
    await run.next('ready');
    const exited = await run.next('exited');
    expect(exited).toMatchObject({ code: 0, terminal: false });
    // Not all of ~6 MB was queued in the supervisor for a reader that never comes.
    expect(exited['stdoutQueued']).toBeLessThanOrEqual(MAX_PENDING + 1024);
    expect(exited['dropped']).toBeGreaterThan(0);
    await run.next('closed');
    expectWholeLog(run.logDir);
  }, 120_000);

  it.skipIf(!hasScript)(
    'stdout a terminal nobody reads: the service logs every line and exits, and the log file has them all',
    async () => {
      const run = await runSupervisor('terminal');
      await run.next('ready');
      // Before the fix the supervisor sat in a write to the terminal, stopped reading the service's
      // pipe, and the service could never finish writing its log: this never came.
      const exited = await run.next('exited');
      expect(exited).toMatchObject({ code: 0, terminal: true });
      expect(exited['pendingBytes']).toBeLessThanOrEqual(MAX_PENDING + 1024);
      expect(exited['dropped']).toBeGreaterThan(0);
      await run.next('closed');
      expectWholeLog(run.logDir);
    },
    120_000,
  );
});
