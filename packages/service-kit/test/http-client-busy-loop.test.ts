import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../src/index.ts';

/**
 * The upstream runs in its own process, so it answers while this process's event loop is blocked. For
 * request n it creates `<dir>/received-<n>`, answers only once `<dir>/go-<n>` exists (the first request at
 * once), then creates `<dir>/answered-<n>`; this process watches those files with synchronous calls.
 */
const UPSTREAM = `
const { createServer } = require('node:http');
const { existsSync, writeFileSync } = require('node:fs');
let n = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const i = ++n;
    writeFileSync(process.env.DIR + '/received-' + i, '');
    const answer = () => {
      if (i > 1 && !existsSync(process.env.DIR + '/go-' + i)) return setTimeout(answer, 2);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n: i }), () => writeFileSync(process.env.DIR + '/answered-' + i, ''));
    };
    answer();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

let child: ChildProcess;
let dir: string;
let client: HttpClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'busy-loop-'));
  child = spawn(process.execPath, ['-e', UPSTREAM], {
    env: { ...process.env, DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  );
  client = createHttpClient({
    name: 'upstream',
    origin: `http://127.0.0.1:${port}`,
    timeoutMs: 5000,
    connections: 1,
  });
});

afterAll(async () => {
  await client.close();
  child.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Blocks this thread until `done()` and time `at` (performance.now()), as a turn busy with other work does. */
function blockUntil(done: () => boolean, at: number): void {
  const giveUp = performance.now() + 60_000;
  while (!done() || performance.now() < at) {
    // spin: nothing on this event loop runs meanwhile
    if (performance.now() > giveUp) throw new Error('the upstream did not answer within 60 s');
  }
}

async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await sleep(2);
}

describe('regression: an answer that arrived while the event loop was busy was thrown away as a timeout', () => {
  it('delivers an answer that came in time, even when the loop wakes after the deadline', async () => {
    // A first call opens the keep-alive connection.
    expect((await client.request({ method: 'GET', path: '/warm' })).body).toEqual({ n: 1 });
    const timeoutMs = 3000;
    const started = performance.now();
    const call = client.request({ method: 'GET', path: '/second', timeoutMs });
    // Once the upstream has the request, let it answer and keep this loop busy until it has and the
    // deadline has passed: when the loop wakes, the timer is due and the answer is in the socket.
    await waitFor(() => existsSync(join(dir, 'received-2')));
    // Block from the check phase, as a turn of request handlers would: the next turn then starts with the
    // timers phase, where the due deadline fires before the socket is polled.
    await new Promise((resolve) => setImmediate(resolve));
    writeFileSync(join(dir, 'go-2'), '');
    blockUntil(() => existsSync(join(dir, 'answered-2')), started + timeoutMs + 20);
    await expect(call).resolves.toMatchObject({ statusCode: 200, body: { n: 2 } });
  });
});
