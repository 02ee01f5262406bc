import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { spawnService } from '../lib/index.ts';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/ready-server.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('spawnService', () => {
  it('starts a separate process, waits until /readyz says 200 and stops it with SIGTERM', async () => {
    const svc = await spawnService({ entry: fixture, name: 'fixture' });
    try {
      expect(svc.origin).toBe(`http://127.0.0.1:${svc.port}`);
      expect(svc.pid).not.toBe(process.pid);
      const res = await request(`${svc.origin}/readyz`);
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe(String(svc.pid));
      expect(svc.output()).toContain(`listening on ${svc.port}`);
    } finally {
      const status = await svc.stop();
      expect(status).toEqual({ code: 0, signal: null, killed: false });
    }
    expect(alive(svc.pid)).toBe(false);
    // A second stop is harmless.
    expect((await svc.stop()).code).toBe(0);
  });

  it('rejects with the output when the process dies before it is ready', async () => {
    await expect(spawnService({ entry: fixture, env: { CRASH: '1' } })).rejects.toThrow(
      /exited before it was ready \(code 3.*boom: invalid configuration/s,
    );
  });

  it('kills a process that ignores SIGTERM after the stop timeout', async () => {
    const svc = await spawnService({ entry: fixture, env: { IGNORE_SIGTERM: '1' }, stopTimeoutMs: 300 });
    const status = await svc.stop();
    expect(status).toEqual({ code: null, signal: 'SIGKILL', killed: true });
    expect(alive(svc.pid)).toBe(false);
  });
});

describe('regression: pnpm bench hung for the stop timeout after its last scenario', () => {
  it('lets the parent exit as soon as the service has stopped, not after stopTimeoutMs', async () => {
    // The parent stops a service with a 60 s stop timeout and then has nothing left to do: it must
    // exit on its own well before those 60 s (a leftover timer used to keep it alive).
    const parent = fileURLToPath(new URL('./fixtures/stop-then-exit.ts', import.meta.url));
    const { stdout } = await run(process.execPath, [parent, fixture], { timeout: 30_000 });
    expect(stdout).toContain('stopped code=0');
  }, 40_000);
});
