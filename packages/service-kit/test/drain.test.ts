// The drain as a keep-alive client sees it, over real sockets: once readiness fails every answer says
// `Connection: close` and the server closes the connection after it, so the client's next request goes
// out on a new connection (to another pod, in a cluster) instead of racing the listener's close.
import { EventEmitter, once } from 'node:events';
import { Agent, get as httpGet } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runService, type RunningService, type ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

let app: ServiceApp | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  agent?.destroy();
  agent = undefined;
  await app?.close();
  app = undefined;
});

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  /** The request went out on a keep-alive socket an earlier request had used. */
  readonly reused: boolean;
  readonly socket: Socket;
}

/** A GET through a keep-alive Agent that keeps one socket, so reuse is observable. */
function getVia(through: Agent, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: through, timeout: 10_000 }, (res) => {
      // Taken now: the Agent detaches the socket from the response once it ends.
      const socket = res.socket;
      res.resume();
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          reused: req.reusedSocket,
          socket,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
  });
}

const closed = (socket: Socket): Promise<unknown> =>
  socket.destroyed ? Promise.resolve() : once(socket, 'close');

async function started(delayMs: number): Promise<{
  running: RunningService;
  events: EventEmitter;
  exits: number[];
  release: () => void;
  entered: Promise<void>;
}> {
  const built = await testService();
  app = built.app;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let enter: () => void = () => {};
  const entered = new Promise<void>((resolve) => {
    enter = resolve;
  });
  app.get('/hello', async () => ({ hello: 'world' }));
  app.get('/slow', async () => {
    enter();
    await gate;
    return { done: true };
  });
  const events = new EventEmitter();
  const exits: number[] = [];
  const running = await runService(app, {
    port: 0,
    host: '127.0.0.1',
    shutdownDelayMs: delayMs,
    shutdownTimeoutMs: 10_000,
    events,
    exit: (code) => exits.push(code),
  });
  agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return { running, events, exits, release, entered };
}

describe('drain: keep-alive clients are moved off with Connection: close', () => {
  it('keeps connections before the drain; during it answers on the idle socket with Connection: close, then closes it', async () => {
    // A delay far longer than the test: everything below happens while the service drains.
    const { running, events, exits } = await started(60_000);
    const url = `${running.url}/hello`;

    const first = await getVia(agent!, url);
    const second = await getVia(agent!, url);
    expect(first).toMatchObject({ status: 200, connection: 'keep-alive', reused: false });
    expect(second).toMatchObject({ status: 200, connection: 'keep-alive', reused: true });
    expect(second.socket).toBe(first.socket);

    events.emit('SIGTERM');
    expect(app!.readiness.shuttingDown).toBe(true);
    // The socket left idle before the drain is still open (the drain does not close idle sockets, which
    // would race a request being written to one) and carries one more request, whose answer moves it off.
    const during = await getVia(agent!, url);
    expect(during).toMatchObject({ status: 200, connection: 'close', reused: true });
    expect(during.socket).toBe(first.socket);
    await closed(during.socket);

    // The next request needs a new connection, and is told the same.
    const next = await getVia(agent!, url);
    expect(next).toMatchObject({ status: 200, connection: 'close', reused: false });
    expect(next.socket).not.toBe(first.socket);
    await closed(next.socket);
    expect(exits).toEqual([]);

    events.emit('SIGTERM');
    expect(await running.stopped).toBe(1);
  });

  it('answers a request in flight when the drain began with Connection: close', async () => {
    const { running, events, release, entered } = await started(60_000);
    const inFlight = getVia(agent!, `${running.url}/slow`);
    await entered;
    events.emit('SIGTERM');
    release();
    const answer = await inFlight;
    expect(answer).toMatchObject({ status: 200, connection: 'close' });
    await closed(answer.socket);
    events.emit('SIGTERM');
    expect(await running.stopped).toBe(1);
  });

  it('closes a keep-alive socket left unused for the whole delay when it closes, and exits 0', async () => {
    const { running, events } = await started(100);
    const before = await getVia(agent!, `${running.url}/hello`);
    expect(before).toMatchObject({ status: 200, connection: 'keep-alive' });
    events.emit('SIGTERM');
    // Within the shutdown timeout (10 s): an idle socket does not hold the close.
    expect(await running.stopped).toBe(0);
    await closed(before.socket);
    app = undefined;
  });
});
