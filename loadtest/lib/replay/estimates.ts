/**
 * The checkout's precise estimate: `POST /v1/estimates/precise` with the order's id, so the BFF logs the
 * prediction for the order and live accuracy can score it against the `delivered` event. An answer is
 * `answered` (200, not degraded), `degraded` (200 from a lower rung of the ladder) or `failed` (anything
 * else, by status or transport error kind); the three add up to the requests sent.
 */
import { PreciseEstimateResponse, type PreciseEstimateRequest } from '@eta/contracts';
import type { Dispatcher } from 'undici';
import { classifyError } from '../errors.ts';
import { MicrosHistogram, type LatencyFigures } from '../histogram.ts';
import { postJson } from './http.ts';

export type EstimateOutcome =
  | { readonly kind: 'answered' | 'degraded'; readonly source: string; readonly ms: number }
  | { readonly kind: 'failed'; readonly reason: string; readonly ms: number };

export type EstimateCall = (body: PreciseEstimateRequest) => Promise<EstimateOutcome>;

export interface EstimateClientOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
}

export function estimateClient(opts: EstimateClientOptions): EstimateCall {
  const url = new URL('/v1/estimates/precise', opts.baseUrl).href;
  return async (body) => {
    const t0 = performance.now();
    try {
      const res = await postJson(url, body, opts);
      const ms = performance.now() - t0;
      if (res.status !== 200) {
        // The error body's code (STORE_NOT_FOUND, OVERLOADED, ...) says more than the status alone.
        const code = (res.json as { code?: unknown } | undefined)?.code;
        return {
          kind: 'failed',
          reason: `http_${res.status}${typeof code === 'string' ? ` ${code}` : ''}`,
          ms,
        };
      }
      const parsed = PreciseEstimateResponse.safeParse(res.json);
      if (!parsed.success) return { kind: 'failed', reason: 'bad_body', ms };
      return { kind: parsed.data.degraded ? 'degraded' : 'answered', source: parsed.data.source, ms };
    } catch (err) {
      return { kind: 'failed', reason: classifyError(err), ms: performance.now() - t0 };
    }
  };
}

export interface EstimateFigures {
  readonly sent: number;
  readonly answered: number;
  readonly degraded: number;
  readonly failed: number;
  /** Answers by `source` (model, rough, manual, fallback). */
  readonly sources: Readonly<Record<string, number>>;
  /** Failures by status and error code (`http_503 OVERLOADED`) or transport error kind (`connect`). */
  readonly failures: Readonly<Record<string, number>>;
  /** Of every request, answered or not, ms. */
  readonly latency: LatencyFigures;
}

export class EstimateTally {
  #sent = 0;
  readonly #count = { answered: 0, degraded: 0, failed: 0 };
  readonly #sources: Record<string, number> = {};
  readonly #failures: Record<string, number> = {};
  readonly #latency = new MicrosHistogram();

  sent(): void {
    this.#sent++;
  }

  record(outcome: EstimateOutcome): void {
    this.#count[outcome.kind]++;
    this.#latency.recordMs(outcome.ms);
    if (outcome.kind === 'failed') this.#failures[outcome.reason] = (this.#failures[outcome.reason] ?? 0) + 1;
    else this.#sources[outcome.source] = (this.#sources[outcome.source] ?? 0) + 1;
  }

  figures(): EstimateFigures {
    return {
      sent: this.#sent,
      ...this.#count,
      sources: { ...this.#sources },
      failures: { ...this.#failures },
      latency: this.#latency.figures(),
    };
  }
}
