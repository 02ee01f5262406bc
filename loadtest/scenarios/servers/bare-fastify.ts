// Baseline for the service-kit benchmark: a bare Fastify 5 app serving the same route the way one
// would without the kit: JSON-schema validation of the querystring (Fastify's default, Ajv) and a
// response schema (fast-json-stringify), no logger, no hooks. Started by spawnService; PORT from env.
import { fastify } from 'fastify';
import { answerEta, SEOUL, type EtaQuery } from './eta-handler.ts';

const app = fastify({ logger: false });

app.get('/readyz', async () => ({ status: 'ok' }));

app.get<{ Querystring: EtaQuery }>(
  '/eta',
  {
    schema: {
      querystring: {
        type: 'object',
        required: ['storeId', 'lat', 'lng'],
        additionalProperties: false,
        properties: {
          storeId: { type: 'string', minLength: 1, maxLength: 64 },
          lat: { type: 'number', minimum: SEOUL.minLat, maximum: SEOUL.maxLat },
          lng: { type: 'number', minimum: SEOUL.minLng, maximum: SEOUL.maxLng },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['storeId', 'etaSeconds', 'distanceKm'],
          properties: {
            storeId: { type: 'string' },
            etaSeconds: { type: 'integer' },
            distanceKm: { type: 'number' },
          },
        },
      },
    },
  },
  async (request) => answerEta(request.query),
);

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
