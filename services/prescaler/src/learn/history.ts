/**
 * Traffic history: requests per second per role over time, from a CSV or a Prometheus range-query export.
 *
 * CSV: a header `timestamp,role,rps`, then one row per sample. `timestamp` is ISO 8601 with an explicit
 * offset (`2026-03-02T18:30:00+09:00`, `...Z`) or Unix epoch seconds (`1772443800`, decimals allowed); a
 * timestamp without an offset is refused (whose 18:30?). `role` is a target id (`vendor-bff-precise`) or a
 * BFF role alone (`precise`). `rps` is a finite number >= 0. Blank lines and lines starting with `#` are
 * skipped.
 *
 * Prometheus: the JSON answer of /api/v1/query_range (`resultType: "matrix"`), one series per role told
 * apart by a label (`role` unless told otherwise), e.g. from
 *   sum by (role) (rate(http_requests_total{...}[1m]))
 * Two series for one role are refused (aggregate with `sum by (role)`), as are NaN and infinite values.
 *
 * A sample stands for the rate from its timestamp until the next sample of the same role.
 */
import { InputError, type TargetId, targetOf } from './targets.ts';

export interface Sample {
  /** Unix epoch seconds. */
  readonly t: number;
  readonly role: TargetId;
  readonly rps: number;
}

/** Epoch seconds accepted: 2000-01-01 .. 2100-01-01 (a millisecond timestamp is far outside). */
const MIN_EPOCH_S = 946_684_800;
const MAX_EPOCH_S = 4_102_444_800;
const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseTimestamp(text: string): number {
  const s = text.trim();
  let t: number;
  if (/^\d+(\.\d+)?$/.test(s)) {
    t = Number(s);
  } else {
    const m = ISO_WITH_OFFSET.exec(s);
    if (!m) {
      throw new InputError(
        /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)
          ? `timestamp "${s}" has no UTC offset (add Z or +09:00)`
          : `timestamp "${s}" is neither ISO 8601 with an offset nor epoch seconds`,
      );
    }
    const [, y, mo, d, h, mi, sec] = m;
    const ms = Date.parse(s.replace(' ', 'T'));
    // Date.parse rolls 2026-02-30 over to March; the fields must be a real date and time.
    const check = new Date(
      Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0)),
    );
    if (
      !Number.isFinite(ms) ||
      check.getUTCFullYear() !== Number(y) ||
      check.getUTCMonth() !== Number(mo) - 1 ||
      check.getUTCDate() !== Number(d) ||
      Number(h) > 23 ||
      Number(mi) > 59 ||
      Number(sec ?? 0) > 59
    ) {
      throw new InputError(`timestamp "${s}" is not a real date and time`);
    }
    t = ms / 1000;
  }
  if (!(t >= MIN_EPOCH_S && t < MAX_EPOCH_S)) {
    throw new InputError(
      `timestamp "${s}" is outside 2000..2100${t > MAX_EPOCH_S * 100 ? ' (milliseconds? give seconds)' : ''}`,
    );
  }
  return t;
}

function parseRate(text: string): number {
  const s = text.trim();
  // Number('') is 0 and Number('0x10') is 16: only plain decimals pass.
  if (!/^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    throw new InputError(`rate "${s}" is not a finite number >= 0`);
  }
  const n = Number(s);
  if (!Number.isFinite(n)) throw new InputError(`rate "${s}" is not a finite number >= 0`);
  return n;
}

function role(text: string): TargetId {
  const r = targetOf(text);
  if (!r) {
    throw new InputError(
      `role "${text.trim()}" is not a target (vendor-bff-precise, vendor-bff-rough, vendor-bff-admin, geo, ml-proxy; or precise, rough, admin)`,
    );
  }
  return r;
}

/** Sorted by role, then time; a repeated (role, timestamp) is refused. */
function finish(samples: Sample[], where: (i: number) => string): Sample[] {
  if (samples.length === 0) throw new InputError('the history has no samples');
  const order = samples.map((s, i) => ({ s, i }));
  order.sort((a, b) => (a.s.role < b.s.role ? -1 : a.s.role > b.s.role ? 1 : a.s.t - b.s.t));
  for (let k = 1; k < order.length; k++) {
    const a = order[k - 1]!;
    const b = order[k]!;
    if (a.s.role === b.s.role && a.s.t === b.s.t) {
      throw new InputError(
        `${where(b.i)}: a second sample for ${b.s.role} at the same time as ${where(a.i)}`,
      );
    }
  }
  return order.map((o) => o.s);
}

export function parseCsvHistory(text: string): Sample[] {
  const lines = text.split(/\r?\n/);
  const samples: Sample[] = [];
  const lineOf: number[] = [];
  let header = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (!header) {
      if (cells.join(',').toLowerCase() !== 'timestamp,role,rps') {
        throw new InputError(`line ${n + 1}: expected the header "timestamp,role,rps", found "${line}"`);
      }
      header = true;
      continue;
    }
    if (cells.length !== 3) {
      throw new InputError(`line ${n + 1}: expected 3 cells (timestamp,role,rps), found ${cells.length}`);
    }
    try {
      samples.push({ t: parseTimestamp(cells[0]!), role: role(cells[1]!), rps: parseRate(cells[2]!) });
      lineOf.push(n + 1);
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`line ${n + 1}: ${err.message}`);
      throw err;
    }
  }
  if (!header) throw new InputError('empty CSV: expected the header "timestamp,role,rps" and rows');
  return finish(samples, (i) => `line ${lineOf[i]}`);
}

export function parsePrometheusHistory(text: string, roleLabel = 'role'): Sample[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not JSON: ${(err as Error).message}`);
  }
  const d = doc as { status?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (typeof d !== 'object' || d === null)
    throw new InputError('expected a Prometheus query_range answer object');
  if (d.status !== 'success') {
    throw new InputError(`Prometheus answer status is ${JSON.stringify(d.status)}: ${String(d.error ?? '')}`);
  }
  if (d.data?.resultType !== 'matrix') {
    throw new InputError(
      `resultType is ${JSON.stringify(d.data?.resultType)}, expected "matrix" (export a range query: /api/v1/query_range)`,
    );
  }
  if (!Array.isArray(d.data.result)) throw new InputError('data.result is not a list of series');
  const samples: Sample[] = [];
  const where: string[] = [];
  const seen = new Map<TargetId, number>();
  d.data.result.forEach((series: unknown, si: number) => {
    const s = series as { metric?: Record<string, unknown>; values?: unknown };
    const label = s?.metric?.[roleLabel];
    if (typeof label !== 'string') {
      throw new InputError(
        `series ${si}: no "${roleLabel}" label (labels: ${JSON.stringify(s?.metric ?? {})})`,
      );
    }
    let r: TargetId;
    try {
      r = role(label);
    } catch (err) {
      throw new InputError(`series ${si}: ${(err as Error).message}`);
    }
    if (seen.has(r)) {
      throw new InputError(
        `series ${si}: a second series for ${r} (the first is series ${seen.get(r)}); aggregate with sum by (${roleLabel})`,
      );
    }
    seen.set(r, si);
    if (!Array.isArray(s.values)) throw new InputError(`series ${si} (${r}): "values" is not a list`);
    s.values.forEach((pair: unknown, pi: number) => {
      const at = `series ${si} (${r}) value ${pi}`;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[1] !== 'string') {
        throw new InputError(`${at}: expected [<unix seconds>, "<value>"]`);
      }
      const [ts, v] = pair as [unknown, string];
      if (typeof ts !== 'number' || !Number.isFinite(ts))
        throw new InputError(`${at}: timestamp is not a number`);
      try {
        samples.push({ t: parseTimestamp(String(ts)), role: r, rps: parseRate(v) });
        where.push(at);
      } catch (err) {
        throw new InputError(`${at}: ${(err as Error).message}`);
      }
    });
  });
  return finish(samples, (i) => where[i]!);
}

/** A JSON document (starts with `{`) is a Prometheus export, anything else CSV. */
export function parseHistory(text: string, roleLabel?: string): Sample[] {
  return text.trimStart().startsWith('{') ? parsePrometheusHistory(text, roleLabel) : parseCsvHistory(text);
}

/** Samples grouped by role, each list sorted by time. */
export function byRole(samples: readonly Sample[]): Map<TargetId, Sample[]> {
  const out = new Map<TargetId, Sample[]>();
  for (const s of samples) {
    let list = out.get(s.role);
    if (!list) out.set(s.role, (list = []));
    list.push(s);
  }
  for (const list of out.values()) list.sort((a, b) => a.t - b.t);
  return out;
}
