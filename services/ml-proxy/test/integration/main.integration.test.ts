import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnService, suiteService } from '@eta/testing';
import { describe, expect, it } from 'vitest';

/** A stand-in Datadog agent: records what dd-trace sends it and accepts everything. */
async function fakeAgent(): Promise<{
  url: string;
  received: { path: string; body: Buffer }[];
  close(): void;
}> {
  const received: { path: string; body: Buffer }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: Buffer.concat(chunks) });
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => server.close() };
}

describe('regression: ml-proxy ignored DD_TRACE_ENABLED (its main.ts never started tracing)', () => {
  it('sends spans of its HTTP requests, as service ml-proxy, to the agent when DD_TRACE_ENABLED=true', async () => {
    const agent = await fakeAgent();
    const svc = await spawnService({
      ...suiteService('ml-proxy'),
      env: {
        DD_TRACE_ENABLED: 'true',
        DD_TRACE_AGENT_URL: agent.url,
        DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
        DD_REMOTE_CONFIGURATION_ENABLED: 'false',
        LOG_LEVEL: 'warn',
        SHUTDOWN_DELAY_MS: '0',
        WARMUP_RUNS: '1',
      },
      readyTimeoutMs: 110_000,
    });
    try {
      const res = await fetch(`${svc.origin}/v2/models/eta-rough`);
      expect(res.status).toBe(200);
      // dd-trace flushes every 2 s by default.
      const traced = () =>
        agent.received.some((r) => /^\/v0\.\d\/traces/.test(r.path) && r.body.includes('ml-proxy'));
      for (let i = 0; i < 200 && !traced(); i++) await sleep(100);
      expect(traced(), `agent received: ${agent.received.map((r) => r.path).join(', ')}`).toBe(true);
    } finally {
      await svc.stop();
      agent.close();
    }
  });
});
