/** One JSON POST as the replay makes them (the BFF's estimate and ingest routes, Geo's pairs). */
import { request, type Dispatcher } from 'undici';
import { bearerHeaders } from '../estimates.ts';

export interface PostOptions {
  readonly dispatcher: Dispatcher;
  /** Each of the headers and the body within this. */
  readonly timeoutMs: number;
  /** A bearer credential, when the route takes one. */
  readonly token?: string;
}

export interface PostResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** Throws what undici throws for a transport failure (classifyError tells the kinds apart). */
export async function postJson(url: string, body: unknown, opts: PostOptions): Promise<PostResult> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: opts.dispatcher,
    headers: opts.token === undefined ? { 'content-type': 'application/json' } : bearerHeaders(opts.token),
    body: JSON.stringify(body),
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}
