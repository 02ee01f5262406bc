import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Runs main.ts with `env` added; these cases all exit before listening. */
async function runMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], {
    // Only what a pod would have: not vitest's own environment (NODE_PATH into vitest's dependencies,
    // VITEST_*, NODE_ENV=test), which is no part of how main.ts runs.
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  // A start-up failure must end the process; if it ever does not, fail with what it printed rather than
  // a bare vitest timeout. It did not, in 2 of 160 runs under load, while main.ts called process.exit():
  // a V8 background compile job deadlocked the exit (nodejs/node#54918; @eta/config's endProcess).
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(guard);
  if (signal === 'SIGKILL') throw new Error(`main.ts did not exit within 20 s; it printed: ${output}`);
  return { code, output };
}

// Each case starts a Node process; with the other test files running beside it on 2 cores that can take
// seconds, so these get a generous bound (behaviour, not speed, is under test).
describe('main.ts start-up failures', { timeout: 30_000 }, () => {
  it('exits 1 listing every bad key of the environment at once', async () => {
    const { code, output } = await runMain({ PORT: 'eighty', REDIS_URL: 'http://127.0.0.1:6379' });
    expect(code).toBe(1);
    const line = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as { issues?: { key: string }[] };
    expect(line.issues?.map((i) => i.key).sort()).toEqual(['PORT', 'REDIS_URL']);
  });

  it('exits 1 with one structured line when the geodata is missing', async () => {
    const { code, output } = await runMain({ GEO_DATA_DIR: '/nonexistent/geo-data' });
    expect(code).toBe(1);
    const line = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as {
      severity?: string;
      message?: string;
      err?: { type?: string };
    };
    expect(line).toMatchObject({
      severity: 'CRITICAL',
      message: 'could not start',
      err: { type: 'GeoDataError' },
    });
  });
});
