import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  SERVICE_NODE_OPTIONS,
  SERVICE_RUNTIME_ARGS,
  SERVICE_RUNTIME_ENV,
  serviceRuntimeArgs,
  serviceRuntimeEnv,
  spawnService,
  suiteService,
} from '../src/index.ts';

const fixture = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url));

// The basics (ready on 200, output in the rejection, SIGKILL after the stop timeout, no leftover timer)
// are covered where the benchmarks use it: loadtest/test/spawn.test.ts.
describe('spawnService', () => {
  it('tells onLine every line of stdout and stderr, and resolves exited when the process ends by itself', async () => {
    const lines: string[] = [];
    const svc = await spawnService({ entry: fixture, name: 'fixture', onLine: (line) => lines.push(line) });
    // The process ends by itself when asked, not after a fixed 300 ms: on a busy machine those could run
    // out before this process had seen it ready, and the start was refused as "exited before it was ready".
    await fetch(`${svc.origin}/exit`).then((res) => res.text());
    expect(await svc.exited).toEqual({ code: 7, signal: null, killed: false });
    expect(lines.sort()).toEqual(
      [`listening on ${svc.port} as ${svc.pid}`, 'a warning', 'second line'].sort(),
    );
    // Stopping a process that has already gone is harmless.
    expect((await svc.stop()).code).toBe(7);
  });

  it('stops the process and rejects when the start is aborted', async () => {
    const abort = new AbortController();
    let pid: number | undefined;
    const started = spawnService({
      entry: fixture,
      env: { READY_AFTER_MS: 'never' },
      onLine: (line) => {
        const m = / as (\d+)$/.exec(line);
        if (!m) return;
        pid = Number(m[1]);
        abort.abort();
      },
      signal: abort.signal,
    });
    await expect(started).rejects.toThrow(/start abandoned/);
    expect(pid).toBeDefined();
    // Signal 0 only checks that the process exists.
    expect(() => process.kill(pid!, 0)).toThrow();
    // An aborted signal starts nothing.
    await expect(spawnService({ entry: fixture, signal: abort.signal })).rejects.toThrow();
  });

  it('stops the process and says why when it is not ready in time', async () => {
    // Never ready, so only the timeout ends the start; 3 s (not 500 ms) so that even a slow start of the
    // process on a busy machine is listening, and answering 503, before it runs out.
    await expect(
      spawnService({ entry: fixture, name: 'slow', env: { READY_AFTER_MS: 'never' }, readyTimeoutMs: 3_000 }),
    ).rejects.toThrow(
      /slow not ready at http:\/\/127\.0\.0\.1:\d+\/readyz in time \(HTTP 503\); output:\n.*listening on/s,
    );
  }, 30_000);

  it('probes 127.0.0.1 when the service listens on every address', async () => {
    const svc = await spawnService({ entry: fixture, host: '0.0.0.0' });
    try {
      expect(svc.origin).toBe(`http://127.0.0.1:${svc.port}`);
    } finally {
      expect(await svc.stop()).toEqual({ code: 0, signal: null, killed: false });
    }
    expect(() => process.kill(svc.pid, 0)).toThrow();
  });
});

describe('spawnService on a port another process holds', () => {
  it('is never ready through the other process: it fails with its own EADDRINUSE', async () => {
    const first = await spawnService({ entry: fixture, name: 'first' });
    try {
      // The second start's probe reaches the first process, which answers /readyz 200; before the check of
      // who listens, that start resolved as ready and its caller tested the wrong server (seen in CI).
      await expect(spawnService({ entry: fixture, name: 'second', port: first.port })).rejects.toThrow(
        /second exited before it was ready \(code 1.*EADDRINUSE/s,
      );
      expect((await fetch(`${first.origin}/readyz`)).status).toBe(200);
    } finally {
      await first.stop();
    }
  });
});

describe('spawnService with ownProcessGroup, under a supervisor stopped by Ctrl-C', () => {
  const supervisorEntry = fileURLToPath(new URL('./fixtures/group-supervisor.ts', import.meta.url));

  /**
   * Starts the supervisor fixture in a group of its own (as a shell puts a foreground job), waits for its
   * `ready`, sends SIGINT to the whole group as a terminal's Ctrl-C does, and returns what its service saw.
   */
  async function ctrlC(): Promise<{ lines: string[]; code: number | null; killed: boolean }> {
    const supervisor = spawn(process.execPath, [supervisorEntry], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    try {
      const out = createInterface({ input: supervisor.stdout! })[Symbol.asyncIterator]();
      expect((await out.next()).value).toBe('ready');
      process.kill(-supervisor.pid!, 'SIGINT');
      return JSON.parse((await out.next()).value as string) as {
        lines: string[];
        code: number | null;
        killed: boolean;
      };
    } finally {
      if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
    }
  }

  it('the service gets only the supervisor SIGTERM, so it drains once and exits 0', async () => {
    const seen = await ctrlC();
    expect(seen.lines.filter((l) => l.startsWith('signal '))).toEqual(['signal SIGTERM']);
    expect(seen).toMatchObject({ code: 0, killed: false });
  }, 60_000);

  it('puts the service in a group of its own, which a signal to the supervisor group does not reach', async () => {
    /** The process group of `pid` (the field after the state in /proc/<pid>/stat). */
    const groupOf = (pid: number | 'self') =>
      Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
    const own = await spawnService({ entry: fixture, name: 'own', ownProcessGroup: true });
    const shared = await spawnService({ entry: fixture, name: 'shared' });
    try {
      expect(groupOf(own.pid)).toBe(own.pid);
      expect(groupOf(shared.pid)).toBe(groupOf('self'));
    } finally {
      await Promise.all([own.stop(), shared.stop()]);
    }
  });
});

describe('suiteService', () => {
  it("runs a service's src/main.ts from its own folder", () => {
    const geo = suiteService('geo');
    expect(geo).toMatchObject({ name: 'geo', entry: 'src/main.ts' });
    expect(existsSync(join(geo.cwd, geo.entry))).toBe(true);
  });
});

describe('serviceRuntimeEnv', () => {
  it("gives a service's main its image's settings, however the entry is spelled", () => {
    const geo = suiteService('geo');
    expect(serviceRuntimeEnv(geo.entry, geo.cwd, {})).toEqual(SERVICE_RUNTIME_ENV['geo']);
    expect(serviceRuntimeEnv(join(geo.cwd, geo.entry), '/', {})).toEqual(SERVICE_RUNTIME_ENV['geo']);
    const ml = suiteService('ml-proxy');
    expect(serviceRuntimeEnv(`../ml-proxy/${ml.entry}`, geo.cwd, {})).toEqual(
      SERVICE_RUNTIME_ENV['ml-proxy'],
    );
    expect(SERVICE_RUNTIME_ENV['geo']).not.toEqual(SERVICE_RUNTIME_ENV['vendor-bff']);
  });

  it('gives any other script the default flags only', () => {
    expect(serviceRuntimeEnv(fixture, '/', {})).toEqual({ NODE_OPTIONS: SERVICE_NODE_OPTIONS });
    const geo = suiteService('geo');
    expect(serviceRuntimeEnv('src/other.ts', geo.cwd, {})).toEqual({ NODE_OPTIONS: SERVICE_NODE_OPTIONS });
  });

  it("keeps the caller's own value of a key", () => {
    const geo = suiteService('geo');
    expect(serviceRuntimeEnv(geo.entry, geo.cwd, { NODE_OPTIONS: '--cpu-prof' })).toEqual({
      ...SERVICE_RUNTIME_ENV['geo'],
      NODE_OPTIONS: '--cpu-prof',
    });
  });
});

describe('serviceRuntimeArgs', () => {
  it("gives the BFF's main its image's V8 flags, and any other script none", () => {
    const bff = suiteService('vendor-bff');
    expect(serviceRuntimeArgs(bff.entry, bff.cwd)).toEqual(['--liftoff-only']);
    expect(serviceRuntimeArgs(join(bff.cwd, bff.entry), '/')).toEqual(SERVICE_RUNTIME_ARGS['vendor-bff']);
    const geo = suiteService('geo');
    expect(serviceRuntimeArgs(geo.entry, geo.cwd)).toEqual([]);
    expect(serviceRuntimeArgs('src/cli/migrate.ts', bff.cwd)).toEqual([]);
    expect(serviceRuntimeArgs(fixture, '/')).toEqual([]);
  });
});
