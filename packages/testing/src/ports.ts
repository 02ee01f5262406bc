import { once } from 'node:events';
import { createServer } from 'node:net';

/** Ports this process handed out, newest last: the OS may give a port it just took back a second time. */
const handedOut: number[] = [];
const REMEMBERED = 512;

async function osPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

/**
 * A port free right now on 127.0.0.1 (the OS picks it; a race with another process is possible but
 * rare). Nothing listens on it once this resolves, so it also serves as a port that refuses connections.
 *
 * Never one this process handed out recently: the OS can give the same free port to two calls in a row
 * (nothing listens on it yet in between), and two services started on one port are not seen as such: the
 * second one's readiness probe reaches the first one (every service answers /readyz), and the second one
 * exits later with EADDRINUSE. CI once started a suite whose BFF was in fact another of its services.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await osPort();
    if (!handedOut.includes(port) || attempt >= 20) {
      handedOut.push(port);
      if (handedOut.length > REMEMBERED) handedOut.shift();
      return port;
    }
  }
}
