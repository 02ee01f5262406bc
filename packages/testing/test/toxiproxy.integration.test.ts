// The Toxiproxy helper against a real toxiproxy-server and a real HTTP server behind it: traffic passes,
// a toxic changes it and its removal restores it, a disabled proxy refuses connections, and the counts the
// fault tests rely on (accepted connections, bytes) follow what was sent.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostPort, startToxiproxy, throughProxy, type ToxiproxyServer } from '../src/toxiproxy.ts';

let server: Server;
let origin = '';
let tp: ToxiproxyServer;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.setHeader('connection', 'close');
    res.end('hello');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  origin = `http://127.0.0.1:${address.port}`;
  tp = await startToxiproxy();
}, 300_000);

afterAll(async () => {
  await tp?.stop();
  server?.closeAllConnections();
  server?.close();
});

const get = async (url: string): Promise<{ status: number; ms: number } | { error: string }> => {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.text();
    return { status: res.status, ms: performance.now() - started };
  } catch (err) {
    return { error: String((err as Error).cause ?? err) };
  }
};

describe('toxiproxy helper', () => {
  it('passes traffic, applies and removes a toxic, refuses while down, and counts connections and bytes', async () => {
    const proxy = await tp.createProxy('hello', hostPort(origin));
    const url = throughProxy(`${origin}/x`, proxy);
    expect(new URL(url).port).toBe(String(proxy.port));

    expect(await get(url)).toMatchObject({ status: 200 });
    expect(proxy.connections()).toBeGreaterThanOrEqual(1);
    expect((await proxy.bytes()).upstream).toBeGreaterThan(0);

    const toxic = await proxy.addToxic({ type: 'latency', attributes: { latency: 400 } });
    expect((await proxy.toxics()).map((t) => t.name)).toEqual([toxic]);
    const slow = await get(url);
    expect(slow).toMatchObject({ status: 200 });
    expect((slow as { ms: number }).ms).toBeGreaterThanOrEqual(400);
    await proxy.removeToxic(toxic);
    expect(await proxy.toxics()).toEqual([]);

    await proxy.disable();
    expect(await get(url)).toHaveProperty('error');
    await tp.reset();
    // Reset enables the proxy again on the same port.
    await expect.poll(async () => get(url), { timeout: 10_000 }).toMatchObject({ status: 200 });

    const before = proxy.connections();
    for (let i = 0; i < 3; i++) expect(await get(url)).toMatchObject({ status: 200 });
    // The server closes each connection, so each request is a connection of its own.
    await expect.poll(() => proxy.connections() - before, { timeout: 5_000 }).toBe(3);
  });
});
