import { loadConfigOrExit } from '@eta/config';
import { runService } from '@eta/service-kit';
import { buildApp } from './app.ts';
import { configSchema } from './config.ts';

// The only module that touches process: parse env once, build, listen, drain on SIGTERM.
const config = loadConfigOrExit(configSchema, process.env);
const app = await buildApp(config);
await runService(app, {
  port: config.PORT,
  host: config.HOST,
  shutdownDelayMs: config.SHUTDOWN_DELAY_MS,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});
