import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Runs main.ts with `env` added; these cases all exit before listening. */
async function runMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('main.ts start-up failures', () => {
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
