import { loadConfigOrEnd } from '@eta/config';
import { runOptionsFrom, runService } from '@eta/service-kit';
import { buildApp } from './app.ts';
import { configSchema } from './config.ts';

// The only module that touches process: parse env once, build, listen, drain on SIGTERM. A bad
// environment ends the process with code 1 once this returns (loadConfigOrEnd).
const config = loadConfigOrEnd(configSchema, process.env);
if (config !== undefined) {
  const app = await buildApp(config);
  await runService(app, runOptionsFrom(config));
}
