// The BFF on embedded PGlite (no DATABASE_URL), as the run command and the chart's default start it. PGlite
// is Postgres compiled to WebAssembly; V8's optimising tier compiling its hottest functions took the BFF's
// resident set to 935-972 MiB for a moment while it migrated, seeded and warmed up (three runs), against
// the chart's 1 GiB limit. The image, `pnpm start` and @eta/testing's spawnService start it with
// `node --liftoff-only` (SERVICE_RUNTIME_ARGS), which kept that peak at 438-505 MiB, after load included.
import { readFileSync } from 'node:fs';
import { freePort, spawnService, suiteService, type SpawnedService } from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Between the two measured ranges, so neither noise nor a few more stores decides it. */
const PEAK_LIMIT_MIB = 700;

describe('the BFF on embedded PGlite, started as the image starts it', () => {
  let bff: SpawnedService | undefined;

  beforeAll(async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    bff = await spawnService({
      ...suiteService('vendor-bff'),
      name: 'vendor-bff',
      readyTimeoutMs: 90_000,
      env: {
        // The test command exports the shared servers' URLs; this process runs as `./scripts/run.sh` does.
        DATABASE_URL: undefined,
        REDIS_URL: undefined,
        KAFKA_BROKERS: undefined,
        ROLE: 'all',
        SERVICE_TOKENS: 'embedded:embedded-db-test-token-0123456789abcdef',
        GEO_URL: dead,
        ML_PROXY_URL: dead,
        LOG_LEVEL: 'info',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await bff?.stop();
  });

  it("keeps PGlite's WebAssembly on V8's baseline tier, and says so", () => {
    const line = bff!
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { message?: string; wasmTiers?: string })
      .find((l) => l.message?.startsWith('using embedded PGlite'));
    expect(line?.wasmTiers).toBe('baseline');
    expect(bff!.output()).not.toContain('without `node --liftoff-only`');
  });

  it(`peaks below ${PEAK_LIMIT_MIB} MiB resident through migrations, the seed and the warm-up`, () => {
    const status = readFileSync(`/proc/${bff!.pid}/status`, 'utf8');
    const peakMiB = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) / 1024;
    expect(peakMiB).toBeLessThan(PEAK_LIMIT_MIB);
  });
});
