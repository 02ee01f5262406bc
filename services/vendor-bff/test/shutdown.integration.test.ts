// The shutdown contract against real vendor-bff PROCESSES: a keep-alive client sending about 1,000 requests
// a second across a SIGTERM of one pod loses no request.
//
// The client sees what a pod's caller sees in Kubernetes. It reaches the BFF through a Service: kube-proxy
// picks an endpoint when a connection is opened, and an open connection stays on its pod even after the pod
// left the endpoints (conntrack), so a keep-alive pool goes on sending to a draining pod for as long as the
// pod keeps its connections open. Here a node:http keep-alive Agent (4 sockets, Node's defaults otherwise)
// opens each new connection to the current endpoint: pod A until half a second after A's /readyz failed
// (the endpoint controller acts on readiness, after a probe period and some propagation), pod B from then
// on. The client sends on a fixed schedule (open loop: it never waits for answers) from before the SIGTERM
// until after A has exited, and every request must be answered 200: no connection error (ECONNRESET, socket
// hang up, EPIPE), no 503.
//
// No 503 is acceptable in this model. The drain delay (SHUTDOWN_DELAY_MS, 3 s here) lets every keep-alive
// connection to A carry one more request, whose answer says `Connection: close`, so the client moves to a
// new connection (to B once A left the endpoints) long before A closes its listener; a 503 SHUTTING_DOWN
// would mean a connection was still on A when it closed, which is what the drain is there to prevent.
// A simpler model, one pod and a client that stops sending before the delay ends, does not tell the old
// drain (keep-alive until the listener closed) from this one: it passes on both. The loss happens to a
// client still sending on its open connections when the listener closes, which is what conntrack allows.
//
// Without DATABASE_URL each pod runs on embedded PGlite, and Geo and the ML proxy point at a port nothing
// listens on: the estimate is then answered from the store's manual times (degraded), through the whole
// request path (service auth, schemas, catalogue, the estimate ladder) at little cost.
import { request, Agent, type ClientRequestArgs } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnService, suiteService, type SpawnedService } from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_EVENT_LOOP_SHEDDING } from './support/app-env.ts';

const TOKEN = 'shutdown-integration-token-0123456789abcdef';
const RATE_PER_SECOND = 1_000;
const SOCKETS = 4;
/**
 * Long enough for the readiness poll and ENDPOINT_LAG_MS even on a busy machine: the test needs the client
 * to have left A's endpoint before A's listener closes, as Kubernetes does with a right-sized delay.
 */
const SHUTDOWN_DELAY_MS = 3_000;
const ENDPOINT_LAG_MS = 500;
const BODY = JSON.stringify({ storeId: 3, destination: { lat: 37.5665, lng: 126.978 } });

interface Outcome {
  /** HTTP status, or the connection error's code (ECONNRESET, EPIPE ...) when there was no answer. */
  readonly result: number | string;
  /** The pod the request's connection went to, when it got one. */
  readonly pod?: string;
  /** Answered (or failed) after the SIGTERM. */
  readonly afterSignal: boolean;
  readonly connectionClose: boolean;
}

async function startBff(): Promise<SpawnedService> {
  const dead = `http://127.0.0.1:${await freePort()}`;
  return spawnService({
    ...suiteService('vendor-bff'),
    name: 'vendor-bff',
    stdout: 'ignore',
    readyTimeoutMs: 90_000,
    // A SIGKILL would show as `killed` and fail the test; give a slow machine plenty of time first.
    stopTimeoutMs: 30_000,
    env: {
      // The test command exports the shared servers' URLs; these pods run on their own embedded PGlite
      // with the seeded stores, whatever the environment.
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      ROLE: 'all',
      SERVICE_TOKENS: `search:${TOKEN}`,
      GEO_URL: dead,
      ML_PROXY_URL: dead,
      SEED_STORES: '50',
      WARMUP_ESTIMATES: '0',
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: '20000',
      // No load shedding: on a machine busy with other work a shed request (503 OVERLOADED) would say
      // nothing about shutdown.
      ...NO_EVENT_LOOP_SHEDDING,
      MAX_IN_FLIGHT: '0',
      LOG_LEVEL: 'warn',
    },
  });
}

/** Like kube-proxy: a connection goes to the endpoint current when it is opened, and stays there. */
class ServiceAgent extends Agent {
  endpoint: { readonly pod: string; readonly port: number };
  readonly podOf = new WeakMap<object, string>();
  /** Connections opened, by pod. */
  readonly opened = new Map<string, number>();

  constructor(endpoint: { pod: string; port: number }) {
    super({ keepAlive: true, maxSockets: SOCKETS });
    this.endpoint = endpoint;
  }

  override createConnection(_options: ClientRequestArgs): Socket {
    const socket = connect({ host: '127.0.0.1', port: this.endpoint.port });
    this.podOf.set(socket, this.endpoint.pod);
    this.opened.set(this.endpoint.pod, (this.opened.get(this.endpoint.pod) ?? 0) + 1);
    return socket;
  }
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function readyStatus(origin: string): Promise<number | 'down'> {
  try {
    const res = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(5_000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 'down';
  }
}

describe('shutdown: a keep-alive client at 1,000 requests per second across a SIGTERM', () => {
  let a: SpawnedService | undefined;
  let b: SpawnedService | undefined;

  beforeAll(async () => {
    [a, b] = await Promise.all([startBff(), startBff()]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('loses no request: every one is answered 200, none fails on its connection, and the pod exits 0', async () => {
    const podA = a!;
    const podB = b!;
    const agent = new ServiceAgent({ pod: 'A', port: podA.port });
    const outcomes: Outcome[] = [];
    let pending = 0;
    let signalled = false;

    const send = (): void => {
      pending += 1;
      let settled = false;
      const settle = (outcome: Omit<Outcome, 'afterSignal'>): void => {
        if (settled) return;
        settled = true;
        pending -= 1;
        outcomes.push({ ...outcome, afterSignal: signalled });
      };
      const req = request(
        {
          agent,
          host: 'vendor-bff.test',
          port: 80,
          method: 'POST',
          path: '/v1/estimates/precise',
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(BODY),
          },
          // Far above any answer time: only a request nobody answers at all ends this way.
          timeout: 30_000,
        },
        (res) => {
          const pod = agent.podOf.get(res.socket);
          const connectionClose = res.headers.connection?.toLowerCase() === 'close';
          res.resume();
          res.on('end', () =>
            settle({
              result: res.statusCode ?? 0,
              connectionClose,
              ...(pod === undefined ? {} : { pod }),
            }),
          );
          res.on('error', (err: NodeJS.ErrnoException) =>
            settle({
              result: err.code ?? err.message,
              connectionClose,
              ...(pod === undefined ? {} : { pod }),
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const pod = req.socket === null ? undefined : agent.podOf.get(req.socket);
        settle({
          result: err.code ?? err.message,
          connectionClose: false,
          ...(pod === undefined ? {} : { pod }),
        });
      });
      req.end(BODY);
    };

    // Open loop: each tick sends what the schedule says is due by now, whatever is still unanswered.
    const started = performance.now();
    let sent = 0;
    const ticker = setInterval(() => {
      const due = Math.floor(((performance.now() - started) * RATE_PER_SECOND) / 1000);
      for (; sent < due; sent++) send();
    }, 5);

    try {
      const answeredBy = (pod: string) => outcomes.filter((o) => o.pod === pod).length;
      // Keep-alive connections to A in use before the signal.
      await waitFor('answers from pod A', () => answeredBy('A') >= 500);

      // Keep-alive in use: hundreds of answers over at most SOCKETS connections.
      expect(agent.opened.get('A')).toBeLessThanOrEqual(SOCKETS);
      expect(outcomes.some((o) => o.connectionClose)).toBe(false);

      signalled = true;
      const exitOfA = podA.stop();
      // The endpoint controller removes A once its readiness fails: new connections go to B from then on,
      // while the connections already open to A stay on A (and the client goes on sending on them).
      await waitFor('pod A to report not ready', async () => (await readyStatus(podA.origin)) !== 200);
      // The probe period and the endpoints' propagation: A stays an endpoint for a while after its
      // readiness failed, so new connections still reach it during the delay (each is served and closed).
      await sleep(ENDPOINT_LAG_MS);
      agent.endpoint = { pod: 'B', port: podB.port };

      const exit = await exitOfA;
      expect(exit).toEqual({ code: 0, signal: null, killed: false });
      // Go on sending after A is gone, so nothing on the client still points at A.
      const afterExit = answeredBy('B');
      await waitFor('answers from pod B after A exited', () => answeredBy('B') >= afterExit + 300);
    } finally {
      clearInterval(ticker);
    }
    await waitFor('every request to be answered or to fail', () => pending === 0, 60_000);
    agent.destroy();

    const tally = new Map<string, number>();
    for (const o of outcomes) {
      const key = `${o.result}${o.pod === undefined ? '' : ` from ${o.pod}`}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    const summary = Object.fromEntries(tally);
    // Every request answered 200: no connection error, no 503 SHUTTING_DOWN.
    expect(
      outcomes.filter((o) => o.result !== 200),
      JSON.stringify(summary),
    ).toEqual([]);
    expect(outcomes).toHaveLength(sent);
    // The drain was really exercised: A answered keep-alive traffic after the signal, and moved its
    // clients off with `Connection: close`.
    const drainedOnA = outcomes.filter((o) => o.afterSignal && o.pod === 'A');
    expect(drainedOnA.length, JSON.stringify(summary)).toBeGreaterThan(0);
    expect(drainedOnA.some((o) => o.connectionClose)).toBe(true);
  }, 120_000);
});
