/**
 * Reading Prometheus text exposition (what `GET /metrics` answers): the one reader the suite uses, in the
 * promotion rule (`pnpm model promote`), the benchmarks and the tests, so that every one of them reads
 * escaped label values, names that are a prefix of other names and `+Inf`/`NaN` the same way.
 *
 * A sample line is `name value [timestamp]` or `name{label="value",...} value [timestamp]`; label values
 * may hold `\\`, `\"` and `\n`. `#` lines (HELP, TYPE, comments) and blank lines are skipped, and so is a
 * line that is not a sample (it is never half read). A name matches exactly: `foo` is not `foo_total`,
 * and a histogram's series are `<name>_bucket`, `<name>_sum` and `<name>_count`.
 */

export interface Sample {
  readonly name: string;
  /** A null-prototype record: only the sample's own labels are keys. */
  readonly labels: Readonly<Record<string, string>>;
  /** `+Inf`, `-Inf` and `NaN` are read as Infinity, -Infinity and NaN. */
  readonly value: number;
}

export type LabelMatch = Readonly<Record<string, string>>;

/** Every sample of the text, in its order. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const sample = parseLine(line);
    if (sample !== undefined) out.push(sample);
  }
  return out;
}

/** The samples of `name` (exactly) whose labels include every one of `where`, in the text's order. */
export function samples(text: string, name: string, where: LabelMatch = {}): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    // Most lines are other metrics: look at the start of the name before reading the labels.
    if (!line.startsWith(name, skipBlanks(line, 0))) continue;
    const sample = parseLine(line);
    if (sample !== undefined && sample.name === name && matches(sample.labels, where)) out.push(sample);
  }
  return out;
}

/** Sum of the samples of `name` whose labels include every one of `where`; 0 when there is none. */
export function sumSamples(text: string, name: string, where: LabelMatch = {}): number {
  let total = 0;
  for (const s of samples(text, name, where)) total += s.value;
  return total;
}

/**
 * The value of the first sample of `name` whose labels include `where`; undefined when there is none.
 * For a series that has one sample: `process_cpu_seconds_total`, or a gauge picked by its labels.
 */
export function sampleValue(text: string, name: string, where: LabelMatch = {}): number | undefined {
  return samples(text, name, where)[0]?.value;
}

/** `name`'s values by one label (a sample without it under ''), summed over the other labels. */
export function byLabel(
  text: string,
  name: string,
  label: string,
  where: LabelMatch = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples(text, name, where)) {
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/**
 * A histogram's cumulative bucket counts (`<name>_bucket` samples whose labels include `where`, summed
 * over their other labels) as `[le, count]` pairs sorted by upper bound; the last is `+Inf`.
 */
export function histogramBuckets(text: string, name: string, where: LabelMatch = {}): [number, number][] {
  const byLe = new Map<number, number>();
  for (const s of samples(text, `${name}_bucket`, where)) {
    const le = s.labels['le'] === undefined ? undefined : parseValue(s.labels['le']);
    if (le === undefined || Number.isNaN(le)) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].sort((a, b) => a[0] - b[0]);
}

/**
 * The q-quantile (0..1) of a histogram between two readings of its buckets (`before` may be empty: since
 * start), linear inside its bucket like Prometheus' histogram_quantile(); the highest finite bound when it
 * falls in +Inf. NaN without observations. An estimate: its resolution is the buckets'.
 */
export function histogramQuantile(
  q: number,
  after: readonly (readonly [number, number])[],
  before: readonly (readonly [number, number])[] = [],
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

function matches(labels: Readonly<Record<string, string>>, where: LabelMatch): boolean {
  for (const [k, v] of Object.entries(where)) if (labels[k] !== v) return false;
  return true;
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';
const skipBlanks = (line: string, i: number): number => {
  while (isBlank(line[i])) i++;
  return i;
};
const NAME_START = /[a-zA-Z_:]/;
const NAME_PART = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_PART = /[a-zA-Z0-9_]/;

/** One line as a sample; undefined for a comment, a blank line or a line that is not a sample. */
function parseLine(raw: string): Sample | undefined {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  let i = skipBlanks(line, 0);
  if (i >= line.length || line[i] === '#') return undefined;

  const nameStart = i;
  if (!NAME_START.test(line[i]!)) return undefined;
  while (i < line.length && NAME_PART.test(line[i]!)) i++;
  const name = line.slice(nameStart, i);

  const labels = Object.create(null) as Record<string, string>;
  i = skipBlanks(line, i);
  if (line[i] === '{') {
    i = skipBlanks(line, i + 1);
    while (line[i] !== '}') {
      const labelStart = i;
      if (i >= line.length || !LABEL_START.test(line[i]!)) return undefined;
      while (i < line.length && LABEL_PART.test(line[i]!)) i++;
      const label = line.slice(labelStart, i);
      i = skipBlanks(line, i);
      if (line[i] !== '=') return undefined;
      i = skipBlanks(line, i + 1);
      if (line[i] !== '"') return undefined;
      i++;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) return undefined;
        if (c === '"') break;
        if (c === '\\') {
          const escaped = line[i + 1];
          if (escaped === undefined) return undefined;
          value += escaped === 'n' ? '\n' : escaped;
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      labels[label] = value;
      i = skipBlanks(line, i + 1);
      if (line[i] === ',') i = skipBlanks(line, i + 1);
      else if (line[i] !== '}') return undefined;
    }
    i = skipBlanks(line, i + 1);
  } else if (i === nameStart + name.length) {
    return undefined; // `name` runs into something that is neither a blank nor `{`
  }

  // The value, then an optional timestamp (ignored), then (OpenMetrics) an optional `# exemplar`.
  const fields = line
    .slice(i)
    .trim()
    .split(/[ \t]+/);
  const value = parseValue(fields[0] ?? '');
  if (value === undefined) return undefined;
  if (fields.length > 1 && fields[1]![0] !== '#' && !/^-?\d+(\.\d+)?$/.test(fields[1]!)) return undefined;
  return { name, labels, value };
}

/** A Prometheus float: decimal or exponent notation, `+Inf`/`-Inf`/`Inf`, `NaN` (any case). */
function parseValue(text: string): number | undefined {
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}
