import {
  adminPaths,
  AdminStore,
  ErrorBody,
  type ErrorDetail,
  formatEtag,
  IF_MATCH_HEADER,
  type LatLng,
  MeResponse,
  PreconditionFailedBody,
  PreviewResponse,
  RETRY_AFTER_HEADER,
  StoreAccuracyResponse,
  SettingsHistoryResponse,
  StoreSettingsBody,
  type StoreSettingsPutInput,
} from '@eta/contracts';
import type { z } from 'zod';

/**
 * The admin API as admin-web sees it: one function per route, every answer parsed with the contract's
 * schema, every failure an ApiError carrying the server's `code` (the UI branches on codes, never on
 * messages). A stale settings write is not a failure but an outcome (`conflict`), because the UI has a
 * whole flow for it. Messages here are for logs and tests; the owner reads i18n/text.ts's describeApiError,
 * chosen by `code`.
 */

/** Codes the client itself produces when there is no server answer to take one from. */
export type ClientErrorCode = 'NETWORK_ERROR' | 'TIMEOUT' | 'BAD_RESPONSE';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  /** The server's error code, or a ClientErrorCode (status 0), or `HTTP_<status>` for a body without one. */
  readonly code: string;
  readonly details: readonly ErrorDetail[];
  /** From `Retry-After` (seconds) on 429 and 503 answers. */
  readonly retryAfterSeconds: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: readonly ErrorDetail[] = [],
    retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** Prefix of every path; '' for same-origin (production under /admin/, and the Vite dev proxy). */
  readonly baseUrl?: string;
  /** Read on every call, so signing out or in takes effect without rebuilding the client. */
  readonly getToken: () => string | null;
  /** Per request. The admin API answers in well under a second; a minute-long hang helps nobody. */
  readonly timeoutMs?: number;
  readonly fetch?: FetchLike;
}

export interface CallOptions {
  /** Cancels the request (a component unmounted, the store changed). */
  readonly signal?: AbortSignal;
}

export type SaveOutcome =
  | { readonly kind: 'saved'; readonly settings: StoreSettingsBody }
  | {
      /** 412: someone saved in between; nothing was changed; `current` is what the server holds. */
      readonly kind: 'conflict';
      readonly current: StoreSettingsBody;
      readonly message: string;
    };

export interface ApiClient {
  me(opts?: CallOptions): Promise<MeResponse>;
  store(id: number, opts?: CallOptions): Promise<AdminStore>;
  settings(id: number, opts?: CallOptions): Promise<StoreSettingsBody>;
  /** `version` is the one the edit started from (sent as If-Match). */
  saveSettings(
    id: number,
    version: number,
    body: StoreSettingsPutInput,
    opts?: CallOptions,
  ): Promise<SaveOutcome>;
  history(id: number, opts?: CallOptions): Promise<SettingsHistoryResponse>;
  preview(id: number, at?: LatLng, opts?: CallOptions): Promise<PreviewResponse>;
  /** `date`: a day in Asia/Seoul, `YYYY-MM-DD` (AccuracyQuery); the server's today without it. */
  accuracy(id: number, date?: string, opts?: CallOptions): Promise<StoreAccuracyResponse>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Seconds from a Retry-After header; HTTP dates are turned into seconds from now. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | null {
  if (value === null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** An error answer as an ApiError, whatever its body (a proxy's HTML 502 has no `code`). */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(res.headers.get(RETRY_AFTER_HEADER));
  const parsed = ErrorBody.safeParse(await readJson(res));
  if (parsed.success) {
    return new ApiError(
      res.status,
      parsed.data.code,
      parsed.data.message,
      parsed.data.details ?? [],
      retryAfter,
    );
  }
  return new ApiError(
    res.status,
    `HTTP_${res.status}`,
    res.statusText || `the server answered ${res.status}`,
    [],
    retryAfter,
  );
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = options.baseUrl ?? '';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function send(path: string, init: RequestInit, opts: CallOptions | undefined): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('accept', 'application/json');
    const token = options.getToken();
    if (token !== null) headers.set('authorization', `Bearer ${token}`);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts?.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    try {
      return await doFetch(`${baseUrl}${path}`, { ...init, headers, signal });
    } catch {
      // The caller's own cancellation is passed through untouched: it is not an error to show anyone.
      if (opts?.signal?.aborted) throw opts.signal.reason;
      if (timeout.aborted) {
        throw new ApiError(0, 'TIMEOUT', `the server did not answer within ${timeoutMs / 1000} s`);
      }
      throw new ApiError(0, 'NETWORK_ERROR', 'the server could not be reached; check the connection');
    }
  }

  async function parseOk<S extends z.ZodType>(res: Response, schema: S): Promise<z.output<S>> {
    const parsed = schema.safeParse(await readJson(res));
    if (!parsed.success) {
      // A contract mismatch is a deployment bug (web and API out of step); say so rather than render junk.
      throw new ApiError(res.status, 'BAD_RESPONSE', 'the server answered in an unexpected form');
    }
    return parsed.data;
  }

  async function get<S extends z.ZodType>(path: string, schema: S, opts?: CallOptions): Promise<z.output<S>> {
    const res = await send(path, { method: 'GET' }, opts);
    if (!res.ok) throw await errorFromResponse(res);
    return parseOk(res, schema);
  }

  return {
    me: (opts) => get(adminPaths.me(), MeResponse, opts),
    store: (id, opts) => get(adminPaths.store(id), AdminStore, opts),
    settings: (id, opts) => get(adminPaths.settings(id), StoreSettingsBody, opts),
    history: (id, opts) => get(adminPaths.settingsHistory(id), SettingsHistoryResponse, opts),
    preview: (id, at, opts) => get(adminPaths.preview(id, at), PreviewResponse, opts),
    accuracy: (id, date, opts) => get(adminPaths.accuracy(id, date), StoreAccuracyResponse, opts),

    async saveSettings(id, version, body, opts) {
      const res = await send(
        adminPaths.settings(id),
        {
          method: 'PUT',
          headers: { 'content-type': 'application/json', [IF_MATCH_HEADER]: formatEtag(version) },
          body: JSON.stringify(body),
        },
        opts,
      );
      if (res.status === 412) {
        const conflict = PreconditionFailedBody.safeParse(await readJson(res));
        if (!conflict.success) {
          throw new ApiError(412, 'BAD_RESPONSE', 'the server refused the save without saying why');
        }
        return { kind: 'conflict', current: conflict.data.current, message: conflict.data.message };
      }
      if (!res.ok) throw await errorFromResponse(res);
      return { kind: 'saved', settings: await parseOk(res, StoreSettingsBody) };
    },
  };
}
