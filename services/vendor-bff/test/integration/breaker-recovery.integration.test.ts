// Issue 12, defect 4: `bff_breaker_state` stayed open long after Geo or the ML proxy had recovered, until
// the next estimate happened to probe it, and that estimate was answered degraded. Real Geo and ML proxy
// processes sit behind a tiny pass-through proxy of this test that can drop every connection (a crashed
// process behind a live address) and pass them again; the breakers must find the recovery by themselves.
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { parseEnv } from '@eta/config';
import type { ServiceApp } from '@eta/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { GANGNAM, MemoryCatalog, view } from '../domain/estimate-fixtures.ts';
import { appEnv, GENEROUS_TIMEOUTS } from '../support/app-env.ts';
import { metricValue } from '../support/metrics.ts';
import { SERVED_MODEL_VERSION, startService, type Proc } from './processes.ts';

interface Switch {
  readonly url: string;
  /** True: every connection is dropped before an answer. */
  down: boolean;
  /** The requests it saw while down, as `METHOD path`. */
  readonly refused: string[];
  close(): Promise<void>;
}

async function passThrough(target: string): Promise<Switch> {
  const to = new URL(target);
  const state = { down: false, refused: [] as string[] };
  const server: Server = createServer((req, res) => {
    if (state.down) {
      state.refused.push(`${req.method} ${req.url}`);
      req.socket.destroy();
      return;
    }
    const up = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    refused: state.refused,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const SERVICE_TOKEN = 'breaker-recovery-shared-token-0123456789';
const auth = { authorization: `Bearer ${SERVICE_TOKEN}` };

let geo: Proc;
let ml: Proc;
let geoSwitch: Switch;
let mlSwitch: Switch;
const apps: ServiceApp[] = [];

beforeAll(async () => {
  [geo, ml] = await Promise.all([
    startService('geo'),
    startService('ml-proxy', { MODEL_POLL_INTERVAL_SECONDS: '0', WARMUP_RUNS: '2' }),
  ]);
  [geoSwitch, mlSwitch] = await Promise.all([passThrough(geo.url), passThrough(ml.url)]);
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await Promise.all([geoSwitch?.close(), mlSwitch?.close()]);
  await Promise.all([geo?.stop(), ml?.stop()]);
});

async function app(): Promise<ServiceApp> {
  const config = parseEnv(
    configSchema,
    appEnv({
      ROLE: 'all',
      GEO_URL: geoSwitch.url,
      ML_PROXY_URL: mlSwitch.url,
      // With BREAKER_FAILURES=1 one late answer opens a breaker. The outages below drop connections, so no
      // test here waits for these timeouts.
      ...GENEROUS_TIMEOUTS,
      BREAKER_FAILURES: '1',
      BREAKER_RESET_MS: '100',
      DEPENDENCY_RETRY: 'false',
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
    }),
  );
  const a = await buildApp(config, { catalog: new MemoryCatalog([view(1)]) });
  apps.push(a);
  expect((await a.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  return a;
}

interface Estimate {
  source: string;
  modelVersion?: string;
  degraded: boolean;
}

const precise = async (a: ServiceApp): Promise<Estimate> => {
  const res = await a.inject({
    method: 'POST',
    url: '/v1/estimates/precise',
    headers: auth,
    payload: { storeId: 1, destination: GANGNAM },
  });
  expect(res.statusCode).toBe(200);
  return res.json<Estimate>();
};

/** `bff_breaker_state{dependency=...}` as a scrape reads it: 0 closed, 1 half-open, 2 open. */
const breaker = (a: ServiceApp, dependency: string): Promise<number | undefined> =>
  metricValue(a, 'bff_breaker_state', { dependency });

// Recovery is found by the breakers' own background probes, which back off up to 4 x BREAKER_RESET_MS
// between tries: a few seconds at most here, waited for as a condition, never as a fixed sleep.
const RECOVERY = { timeout: 30_000, interval: 50 };

describe('regression: bff_breaker_state stays open after a dependency recovered, until a request probes it', () => {
  it('Geo: the metric goes back to closed with no request at all, and the next estimate is not degraded', async () => {
    const a = await app();
    expect(await precise(a)).toMatchObject({ source: 'model', degraded: false });

    geoSwitch.down = true;
    try {
      expect(await precise(a)).toMatchObject({ source: 'model', degraded: true });
      expect(await breaker(a, 'geo')).toBeGreaterThan(0);
      // While Geo is down, the background probe (Geo's /readyz) fails and the breaker stays off it.
      await expect.poll(() => geoSwitch.refused.includes('GET /readyz'), RECOVERY).toBe(true);
      expect(await breaker(a, 'geo')).toBeGreaterThan(0);
    } finally {
      geoSwitch.down = false;
    }

    // Geo is back. No estimate is asked for: only the metric is read, until it says closed.
    await expect.poll(() => breaker(a, 'geo'), RECOVERY).toBe(0);
    expect(await precise(a)).toMatchObject({
      source: 'model',
      modelVersion: SERVED_MODEL_VERSION,
      degraded: false,
    });
  });

  it("ML proxy: each model's breaker closes by itself, and the next estimate is the model's again", async () => {
    const a = await app();
    expect(await precise(a)).toMatchObject({ source: 'model', degraded: false });

    mlSwitch.down = true;
    try {
      // eta-precise fails, then the ladder's eta-rough rung: the manual times answer.
      expect(await precise(a)).toMatchObject({ source: 'manual', degraded: true });
      expect(await breaker(a, 'ml-proxy/eta-precise')).toBeGreaterThan(0);
      expect(await breaker(a, 'ml-proxy/eta-rough')).toBeGreaterThan(0);
      // Each model's breaker probes that model's own V2 ready route.
      await expect
        .poll(
          () =>
            ['eta-precise', 'eta-rough'].every((m) => mlSwitch.refused.includes(`GET /v2/models/${m}/ready`)),
          RECOVERY,
        )
        .toBe(true);
    } finally {
      mlSwitch.down = false;
    }

    await expect.poll(() => breaker(a, 'ml-proxy/eta-precise'), RECOVERY).toBe(0);
    await expect.poll(() => breaker(a, 'ml-proxy/eta-rough'), RECOVERY).toBe(0);
    expect(await precise(a)).toMatchObject({
      source: 'model',
      modelVersion: SERVED_MODEL_VERSION,
      degraded: false,
    });
  });
});
