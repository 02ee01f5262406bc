import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * A port free right now on 127.0.0.1 (the OS picks it; a race with another process is possible but
 * rare). Nothing listens on it once this resolves, so it also serves as a port that refuses connections.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}
