import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { shippedVersions } from '../model-versions.ts';

const servicesDir = fileURLToPath(new URL('../../../', import.meta.url));

/** The version a real ml-proxy on the committed repository serves unpinned: the newest. */
export const SERVED_MODEL_VERSION = shippedVersions('eta-precise').at(-1)!;

export interface Proc {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts the real `services/<name>/src/main.ts` on port 0 and resolves with its URL once /readyz answers
 * 200; fails with the process's output if it exits first or is not ready within `readyTimeoutMs`.
 */
export async function startService(
  name: string,
  env: Record<string, string> = {},
  readyTimeoutMs = 60_000,
): Promise<Proc> {
  const child: ChildProcess = spawn(process.execPath, ['src/main.ts'], {
    cwd: `${servicesDir}${name}`,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  const until = Date.now() + readyTimeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${output}`);
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    if (m?.[1]) {
      const res = await fetch(`${m[1]}/readyz`).catch(() => undefined);
      if (res?.status === 200) return { url: m[1], stop };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`${name} not ready in time:\n${output}`);
}
