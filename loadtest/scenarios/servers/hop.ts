// The hop floor: the precise path's process layout with handlers that do no work. One file, three roles:
// with GEO_URL and ML_URL set it is the "BFF" (POST /v1/estimates/precise calls Geo, then the ML proxy, over
// keep-alive pools, and answers), without them a leaf that answers a small fixed body. Same Fastify, same
// Node flags and the same loopback hops as the real chain, so chain p99 / floor p99 is what the suite's own
// work costs on top of three processes and two HTTP hops. Started by spawnService; PORT from env.
import { fastify } from 'fastify';
import { Pool } from 'undici';

const app = fastify({ logger: false });
app.get('/readyz', async () => ({ status: 'ok' }));
app.get('/metrics', async (_req, reply) => {
  const cpu = process.cpuUsage();
  return reply.type('text/plain').send(`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}\n`);
});

const geoUrl = process.env.GEO_URL;
const mlUrl = process.env.ML_URL;

if (geoUrl !== undefined && mlUrl !== undefined) {
  const geo = new Pool(geoUrl, { connections: 32, pipelining: 1 });
  const ml = new Pool(mlUrl, { connections: 32, pipelining: 1 });
  const post = async (pool: Pool, path: string, body: unknown): Promise<unknown> => {
    const res = await pool.request({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 1000,
      bodyTimeout: 1000,
    });
    return res.body.json();
  };
  app.post('/v1/estimates/precise', async (request) => {
    const ask = request.body as { storeId: number; destination: unknown };
    const features = await post(geo, '/v1/features', { destination: ask.destination });
    const answer = await post(ml, '/v2/models/eta-precise/infer', { features });
    return { storeId: ask.storeId, answer, source: 'model', degraded: false };
  });
  app.addHook('onClose', async () => {
    await Promise.all([geo.close(), ml.close()]);
  });
} else {
  app.post('/*', async () => ({ ok: true, minutes: 30 }));
}

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
