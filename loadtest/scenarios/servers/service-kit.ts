// The service-kit side of the overhead benchmark: the same route and handler as bare-fastify.ts,
// built with buildService (logs, request ids, deadlines, error handler, metrics, load shedding) and
// validated with zod, as every service of the suite does. Started by spawnService; PORT from env.
import { baseServiceEnv, parseEnv, z } from '@eta/config';
import { buildService } from '@eta/service-kit';
import { answerEta, SEOUL } from './eta-handler.ts';

const EtaQuerySchema = z
  .object({
    storeId: z.string().min(1).max(64),
    lat: z.coerce.number().min(SEOUL.minLat).max(SEOUL.maxLat),
    lng: z.coerce.number().min(SEOUL.minLng).max(SEOUL.maxLng),
  })
  .strict();

const EtaAnswerSchema = z.object({
  storeId: z.string(),
  etaSeconds: z.number().int(),
  distanceKm: z.number(),
});

const config = parseEnv(baseServiceEnv, process.env);
const app = await buildService({ name: 'loadtest-service-kit', config, version: 'bench' });

app.get(
  '/eta',
  { schema: { querystring: EtaQuerySchema, response: { 200: EtaAnswerSchema } } },
  async (request) => answerEta(request.query),
);

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
