import { spawnService, suiteService } from '@eta/testing';
import { shippedVersions } from '../model-versions.ts';

/** The version a real ml-proxy on the committed repository serves unpinned: the newest. */
export const SERVED_MODEL_VERSION = shippedVersions('eta-precise').at(-1)!;

export interface Proc {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts the real `services/<name>/src/main.ts` on a free port and resolves with its URL once /readyz
 * answers 200; fails with the process's output if it exits first or is not ready within `readyTimeoutMs`.
 */
export async function startService(
  name: string,
  env: Record<string, string> = {},
  readyTimeoutMs = 60_000,
): Promise<Proc> {
  const service = await spawnService({
    ...suiteService(name),
    // MAX_QUEUE_MS=0: no shedding on a standing event-loop queue, which these processes can show on a
    // machine busy with other test files while a test sends a burst.
    env: { SHUTDOWN_DELAY_MS: '0', LOG_LEVEL: 'info', MAX_QUEUE_MS: '0', ...env },
    readyTimeoutMs,
  });
  return {
    url: service.origin,
    stop: async () => {
      await service.stop();
    },
  };
}
