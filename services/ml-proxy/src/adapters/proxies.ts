/**
 * Reads a running ML proxy over HTTP (its /metrics and V2 model metadata), each call under a deadline.
 * Used by `pnpm model` to take the shadow comparisons of the promotion rule and to see what proxies serve.
 */
export async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return body;
}

/** What a proxy says about a model: GET /v2/models/{model} (parameters.serving, servingFrom, candidate). */
export async function fetchServing(
  origin: string,
  model: string,
  timeoutMs: number,
): Promise<{ serving?: string; servingFrom?: string; candidate?: string }> {
  const text = await fetchText(`${origin}/v2/models/${encodeURIComponent(model)}`, timeoutMs);
  const body = JSON.parse(text) as { parameters?: Record<string, unknown> };
  const p = body.parameters ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const serving = str(p['serving']);
  const servingFrom = str(p['servingFrom']);
  const candidate = str(p['candidate']);
  return {
    ...(serving === undefined ? {} : { serving }),
    ...(servingFrom === undefined ? {} : { servingFrom }),
    ...(candidate === undefined ? {} : { candidate }),
  };
}
