import { Writable } from 'node:stream';
import { baseServiceEnv, type BaseServiceConfig } from '@eta/config';
import { buildService, type BuildServiceOptions, type ServiceApp } from '../src/index.ts';

export interface LogCapture {
  readonly lines: Record<string, unknown>[];
  readonly stream: Writable;
}

/** Collects every JSON log line the service writes, so tests assert on real output. */
export function captureLogs(): LogCapture {
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        nl = pending.indexOf('\n');
      }
      done();
    },
  });
  return { lines, stream };
}

export function testConfig(overrides: Record<string, string> = {}): BaseServiceConfig {
  return baseServiceEnv.parse({
    LOG_LEVEL: 'info',
    ACCESS_LOG: 'all',
    // No load shedding unless a test turns it on (load-shedding.test.ts does): a runner starved of CPU by
    // its neighbours shows event-loop delay, and a request answered 503 OVERLOADED then fails a test about
    // something else (logging.test.ts saw its 404 logged as a 503 under two busy-loop processes).
    MAX_EVENT_LOOP_DELAY_MS: '0',
    MAX_QUEUE_MS: '0',
    ...overrides,
  });
}

export async function testService(
  opts: Partial<BuildServiceOptions> & { env?: Record<string, string> } = {},
): Promise<{ app: ServiceApp; logs: LogCapture }> {
  const logs = captureLogs();
  const { env, ...rest } = opts;
  const app = await buildService({
    name: 'test-svc',
    config: testConfig(env),
    logStream: logs.stream,
    defaultMetrics: false,
    ...rest,
  });
  return { app, logs };
}
