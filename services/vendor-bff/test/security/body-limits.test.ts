// Oversized bodies on a real socket: a request body over the limit (1 MiB) on every route that reads one is
// refused with 413 PAYLOAD_TOO_LARGE in the suite's error form while the client is still sending it, both
// with a Content-Length that says so (50 MB) and chunked without one, and the server closes the connection
// rather than reading the rest. "While still sending" is measured in bytes, never in time: the client
// writes as fast as the socket takes it and records how much it had written when the answer arrived.
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ServiceApp } from '@eta/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY } from './policy.ts';
import {
  buildFor,
  createProvider,
  identityHeaders,
  openFixture,
  securityEnv,
  type Fixture,
  type Identity,
} from './support.ts';

const MiB = 1024 * 1024;
const TOTAL = 50 * MiB;
const CHUNK = 64 * 1024;

interface Upload {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Body bytes the client had handed to the socket when the first byte of the answer arrived. */
  readonly writtenWhenAnswered: number;
  /** Body bytes written in all before the server ended the connection (or the client finished). */
  readonly writtenInAll: number;
  /** The server closed the connection before the client had sent the whole body. */
  readonly closedEarly: boolean;
  /** How the client saw the connection end: the server's FIN ('end'), or an error such as a reset. */
  readonly endedBy: 'end' | 'close' | 'error' | 'answered';
}

/**
 * Sends `method path` with a body of `total` bytes, as fast as the socket takes it, with a Content-Length or
 * chunked, and reads the answer on the same socket as it arrives. Keeps sending after the answer until the
 * server closes the connection or the body is all sent.
 */
function upload(
  port: number,
  opts: {
    method: string;
    path: string;
    headers: Record<string, string>;
    total: number;
    chunked: boolean;
  },
): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let written = 0;
    let writtenWhenAnswered = -1;
    let received = Buffer.alloc(0);
    let done = false;
    let finished = false;
    const filler = Buffer.alloc(CHUNK, 0x20); // spaces: valid JSON whitespace, so only the size is wrong

    const finish = (endedBy: Upload['endedBy']) => {
      if (done) return;
      done = true;
      socket.destroy();
      const text = received.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) {
        reject(new Error(`no answer after ${written} bytes; got ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({
        status: Number(statusLine?.split(' ')[1]),
        headers,
        body: text.slice(headEnd + 4),
        writtenWhenAnswered,
        writtenInAll: written,
        closedEarly: !finished,
        endedBy,
      });
    };

    socket.on('data', (d: Buffer) => {
      if (writtenWhenAnswered < 0) writtenWhenAnswered = written;
      received = Buffer.concat([received, d]);
      // All sent and answered: a server keeping the connection open has read the whole body.
      if (finished) finish('answered');
    });
    // The server ending or resetting the connection ends the upload; what it answered before counts.
    socket.on('end', () => finish('end'));
    socket.on('close', () => finish('close'));
    socket.on('error', () => finish('error'));

    const head =
      `${opts.method} ${opts.path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
      Object.entries(opts.headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      (opts.chunked ? 'transfer-encoding: chunked\r\n' : `content-length: ${opts.total}\r\n`) +
      '\r\n';

    const pump = () => {
      while (!done && written < opts.total) {
        const n = Math.min(CHUNK, opts.total - written);
        const piece = filler.subarray(0, n);
        const data = opts.chunked
          ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
          : piece;
        written += n;
        if (!socket.write(data)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!done && written >= opts.total) {
        finished = true;
        if (opts.chunked) socket.write('0\r\n\r\n');
        if (writtenWhenAnswered >= 0) finish('answered');
      }
    };
    socket.once('connect', () => {
      socket.write(head);
      pump();
    });
  });
}

let fixture: Fixture;
let app: ServiceApp;
let port = 0;
let headersOf: Record<Identity, Record<string, string>>;

beforeAll(async () => {
  const [f, idp] = await Promise.all([openFixture(), createProvider('ES256', 'limits-1')]);
  fixture = f;
  headersOf = await identityHeaders(idp);
  app = await buildFor(fixture, securityEnv(fixture, 'all', idp));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
}, 120_000);
afterAll(async () => {
  await app?.close();
  await fixture?.close();
});

/** Every route of the policy table that reads a body, with an identity it lets in. */
const bodyRoutes = Object.entries(POLICY)
  .filter(([key]) => !key.startsWith('GET ') && !key.startsWith('HEAD '))
  .map(([key, p]) => {
    const identity = (['serviceToken', 'operator'] as const).find((id) => p.access[id] === 'allowed');
    return { key, method: key.split(' ')[0]!, url: p.probe.url, identity: identity! };
  });

const MODES = [
  ['a 50 MB body with its Content-Length', false],
  ['a 50 MB chunked body without Content-Length', true],
] as const;

describe.each(MODES)('%s', (_name, chunked) => {
  it('is answered 413 PAYLOAD_TOO_LARGE on every body route while the client is still sending, and the connection is closed', async () => {
    expect(bodyRoutes.map((r) => r.key).sort()).toEqual([
      'POST /v1/estimates/precise',
      'POST /v1/estimates/rough',
      'POST /v1/events/orders',
      'PUT /v1/stores/:id/settings',
    ]);
    for (const route of bodyRoutes) {
      const res = await upload(port, {
        method: route.method,
        path: route.url,
        // If-Match is irrelevant: the body is refused before the handler could look at it.
        headers: { ...headersOf[route.identity], 'if-match': '"1"' },
        total: TOTAL,
        chunked,
      });
      const summary = {
        route: route.key,
        status: res.status,
        code: (JSON.parse(res.body) as { code: string }).code,
      };
      expect(summary).toEqual({ route: route.key, status: 413, code: 'PAYLOAD_TOO_LARGE' });
      expect(JSON.parse(res.body)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
      expect(res.headers['x-request-id']).toBeTruthy();
      // Answered while the upload was under way, and the rest never read: the connection was closed.
      expect(res.writtenWhenAnswered).toBeLessThan(TOTAL);
      expect(res.headers['connection']).toBe('close');
      // ... and closed with a FIN after the answer (a lingering close), never a reset: a reset can reach
      // the client before it has read the 413, which the client then never sees.
      expect({ route: route.key, closedEarly: res.closedEarly, endedBy: res.endedBy }).toEqual({
        route: route.key,
        closedEarly: true,
        endedBy: 'end',
      });
    }
  });
});

/** Answers sent before the body is read: refused credentials, a kit refusal, and GET routes given a body. */
function earlyAnswers(): {
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  status: number;
}[] {
  const refusals = bodyRoutes.flatMap((r) =>
    (['anonymous', 'serviceJwt', 'owner'] as const)
      .filter((id) => POLICY[r.key]!.access[id] !== 'allowed' && POLICY[r.key]!.access[id] !== 'hidden')
      .map((id) => ({
        what: `${r.key} as ${id}`,
        method: r.method,
        url: r.url,
        headers: headersOf[id],
        status: POLICY[r.key]!.access[id] === 'forbidden' ? 403 : 401,
      })),
  );
  return [
    ...refusals,
    {
      what: 'a negative x-request-timeout-ms (the kit refuses it before the body)',
      method: 'POST',
      url: '/v1/estimates/precise',
      headers: { ...headersOf.serviceToken, 'x-request-timeout-ms': '-1' },
      status: 400,
    },
    // A GET route reads no body at all: the whole upload would be read and thrown away.
    { what: 'GET /livez with a body', method: 'GET', url: '/livez', headers: {}, status: 200 },
    {
      what: 'GET /v1/me with a body',
      method: 'GET',
      url: '/v1/me',
      headers: headersOf.operator,
      status: 200,
    },
  ];
}

describe.each(MODES)(
  'regression: an answer sent before the body was read kept the connection, and the server read the whole body: %s',
  (_name, chunked) => {
    it('refused credentials (401, 403), a kit refusal (400) and GET routes answer while the client sends, then close', async () => {
      const cases = earlyAnswers();
      expect(cases.length).toBeGreaterThanOrEqual(9);
      const wrong: unknown[] = [];
      for (const c of cases) {
        const res = await upload(port, {
          method: c.method,
          path: c.url,
          headers: c.headers,
          total: TOTAL,
          chunked,
        });
        const seen = {
          what: c.what,
          status: res.status,
          answeredWhileSending: res.writtenWhenAnswered < TOTAL,
          connection: res.headers['connection'],
          closedEarly: res.closedEarly,
          endedBy: res.endedBy,
        };
        const expected = {
          what: c.what,
          status: c.status,
          answeredWhileSending: true,
          connection: 'close',
          closedEarly: true,
          endedBy: 'end',
        };
        if (JSON.stringify(seen) !== JSON.stringify(expected)) wrong.push(seen);
      }
      expect(wrong).toEqual([]);
    });
  },
);

describe('a small body with a refused credential', () => {
  it('is drained and the connection kept (a client with a stale token does not reconnect for nothing)', async () => {
    const res = await upload(port, {
      method: 'POST',
      path: '/v1/estimates/precise',
      headers: {},
      total: 1_000,
      chunked: false,
    });
    expect(res.status).toBe(401);
    expect(res.headers['connection']).toBe('keep-alive');
  });
});

it('the server still answers on a new connection afterwards', async () => {
  const res = await upload(port, {
    method: 'POST',
    path: '/v1/estimates/precise',
    headers: headersOf.serviceToken,
    total: 2,
    chunked: false,
  });
  // `  ` is not a JSON document: the body was read and parsed, so this is the 400 of a small bad body.
  expect(res.status).toBe(400);
});
