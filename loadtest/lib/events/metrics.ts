/**
 * Reading a service's Prometheus text (`GET /metrics`) for the event scenarios: sums of a metric's series
 * whose labels match, and a quantile of a histogram from its cumulative buckets, as Prometheus'
 * histogram_quantile() estimates it (linear inside the bucket).
 */
import { request } from 'undici';

export async function scrape(origin: string): Promise<string> {
  const res = await request(`${origin}/metrics`);
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET ${origin}/metrics answered ${res.statusCode}`);
  }
  return res.body.text();
}

type Labels = Readonly<Record<string, string>>;

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** Every series of `name` (exactly; not its _bucket/_sum/_count) with its labels and value. */
export function series(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const close = rest[0] === '{' ? rest.lastIndexOf('}') : -1;
    const labels = close > 0 ? parseLabels(rest.slice(1, close)) : {};
    const value = Number(
      rest
        .slice(close + 1)
        .trim()
        .split(' ')[0],
    );
    out.push({ labels, value });
  }
  return out;
}

const matches = (labels: Labels, want: Labels) => Object.entries(want).every(([k, v]) => labels[k] === v);

/** Sum of the series of `name` whose labels include `where`; 0 when there is none. */
export function sum(text: string, name: string, where: Labels = {}): number {
  return series(text, name)
    .filter((s) => matches(s.labels, where))
    .reduce((a, s) => a + s.value, 0);
}

/** `name`'s values by one label, summed over the others (series matching `where`). */
export function byLabel(
  text: string,
  name: string,
  label: string,
  where: Labels = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series(text, name)) {
    if (!matches(s.labels, where)) continue;
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** Cumulative bucket counts of a histogram (series matching `where`, summed), by upper bound. */
export function buckets(text: string, name: string, where: Labels = {}): [number, number][] {
  const byLe = new Map<number, number>();
  for (const s of series(text, `${name}_bucket`)) {
    if (!matches(s.labels, where)) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].sort((a, b) => a[0] - b[0]);
}

/**
 * The q-quantile (0..1) of a histogram between two scrapes (`before` may be empty: since start), linear
 * inside its bucket like histogram_quantile(); the highest finite bound when it falls in +Inf. NaN
 * without observations. An estimate: its resolution is the buckets'.
 */
export function histogramQuantile(
  q: number,
  after: readonly [number, number][],
  before: readonly [number, number][] = [],
): number {
  const prior = new Map(before);
  const cum = after.map(([le, n]) => [le, n - (prior.get(le) ?? 0)] as const);
  const total = cum.at(-1)?.[1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let lowerLe = 0;
  let lowerN = 0;
  for (const [le, n] of cum) {
    if (n >= rank) {
      if (!Number.isFinite(le)) return lowerLe;
      return n === lowerN ? le : lowerLe + ((le - lowerLe) * (rank - lowerN)) / (n - lowerN);
    }
    lowerLe = le;
    lowerN = n;
  }
  return lowerLe;
}
