import { spawnService, suiteService } from '@eta/testing';
import { shippedVersions } from '../model-versions.ts';
import { NO_EVENT_LOOP_SHEDDING } from '../support/app-env.ts';

/** The version a real ml-proxy on the committed repository serves unpinned: the newest. */
export const SERVED_MODEL_VERSION = shippedVersions('eta-precise').at(-1)!;

export interface Proc {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts the real `services/<name>/src/main.ts` on a free port and resolves with its URL once /readyz
 * answers 200; fails with the process's output if it exits first or is not ready within `readyTimeoutMs`.
 * Every process gets the keys below (no drain delay, no event-loop load shedding, ...) under `env`.
 */
export async function startService(
  name: string,
  env: Record<string, string> = {},
  readyTimeoutMs = 60_000,
): Promise<Proc> {
  const service = await spawnService({
    ...suiteService(name),
    env: {
      SHUTDOWN_DELAY_MS: '0',
      LOG_LEVEL: 'info',
      // No load shedding: on a machine busy with other test files these processes show a standing
      // event-loop queue during a burst (MAX_QUEUE_MS), and the ML proxy shows event-loop delay right
      // after its models loaded, just as it turns ready (MAX_EVENT_LOOP_DELAY_MS; its own execution test
      // was answered 503 that way). A shed call would turn a model answer into a degraded one.
      ...NO_EVENT_LOOP_SHEDDING,
      // Read by the ML proxy only: its per-call model deadline (50 ms by default) is not what these tests
      // are about; the BFF's own timeouts and budget still bound every call it makes.
      MODEL_DEADLINE_MS: '10000',
      ...env,
    },
    readyTimeoutMs,
  });
  return {
    url: service.origin,
    stop: async () => {
      await service.stop();
    },
  };
}
