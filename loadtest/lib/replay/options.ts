/**
 * `pnpm replay -- [options]`: the replay's command line. Secrets never travel on it: the BFF credential
 * comes from REPLAY_TOKEN, or is minted as the README mints one (`pnpm -s dev:token --service replay`).
 */
import { parseArgs } from 'node:util';
import { REGION_CLASSES, type RegionClass } from '@eta/contracts';
import { DEFAULT_STORES } from './world.ts';
import { DAY_START_S, RUN_ID_PATTERN } from './plan.ts';
import { SHIFT_FACTOR_MAX, SHIFT_FACTOR_MIN, type ShiftOptions } from './shift.ts';
import type { EstimateClock } from './messages.ts';

export const SINKS = ['http', 'kafka'] as const;
export type SinkName = (typeof SINKS)[number];

export interface ReplayOptions {
  readonly orders: number;
  readonly speed: number;
  readonly seed: number;
  readonly maxDurationMs: number;
  readonly fromS: number | undefined;
  readonly toS: number | undefined;
  readonly bffUrl: string;
  /** null: destinations' dongs from the plan (Geo's code and data, offline), Geo is not asked. */
  readonly geoUrl: string | null;
  readonly sinks: readonly SinkName[];
  readonly brokers: readonly string[];
  readonly topicPrefix: string;
  readonly stores: number;
  readonly runId: string;
  /** null: the shared dataset beside the checkout. */
  readonly data: string | null;
  readonly timeoutMs: number;
  /** How long one events batch is sent again (503, connection errors) before it counts as failed. */
  readonly retryForMs: number;
  readonly estimates: boolean;
  readonly json: boolean;
  readonly dryRun: boolean;
  /** A simulated shift on top of the real orders (shift.ts); null: the dataset's minutes as they are. */
  readonly shift: ShiftOptions | null;
  /** What the estimate's orderedAt names (messages.ts). */
  readonly estimateClock: EstimateClock;
}

const REGION_CLASSES_TEXT = REGION_CLASSES.join(', ');

export const USAGE = `pnpm replay -- [options]    (or: node loadtest/replay.ts [options])
  Replays real orders of ../shared/data/food-delivery-india/orders-train.csv.gz as a live, time-compressed
  stream in Seoul against a running suite (./scripts/run.sh): a precise estimate at checkout with the order
  id, then the order's created, rider-assigned, picked-up and delivered events.
  --orders <n>          orders to replay (default 1000; a seeded sample of the file's, by time of day)
  --speed <x>           dataset seconds per real second (default 60: the day's 17 busy hours in 17 minutes)
  --seed <n>            which orders, stores, destinations (default 1); same seed and options, same run
  --max-duration <d>    only orders whose delivery falls within this much wall time: 90s, 30m, 1h (default 30m)
  --from <HH:MM>        only orders placed from this time of day (the file's clock)
  --to <HH:MM>          ... until this one (exclusive; may wrap past midnight)
  --bff-url <url>       the BFF (default http://127.0.0.1:8080)
  --geo-url <url|none>  Geo, asked for every destination's dong (default http://127.0.0.1:8081); none: the
                        dong from Geo's code and data here, offline
  --sink <list>         where events go: http (POST /v1/events/orders on the BFF), kafka, both (http,kafka),
                        or none (default http; kafka when --brokers is given)
  --brokers <list>      Kafka bootstrap servers host:port,... for the kafka sink
  --topic-prefix <p>    before the topic name, as the services' KAFKA_TOPIC_PREFIX (default none)
  --stores <n>          the BFF's seeded stores, ids 1..n (default ${DEFAULT_STORES}, the run command's SEED_STORES)
  --run-id <id>         before every order id (<id>-0x4607); default r<seconds since epoch, base 36>, new each run
  --data <path>         the orders file (default ../shared/data/food-delivery-india/orders-train.csv.gz)
  --timeout-ms <n>      per request (default 5000)
  --retry-for <d>       how long an events batch is sent again after 503s or connection errors (default 60s)
  --no-estimates        events only
  --json                the report as JSON on stdout (progress stays on stderr)
  --dry-run             plan and report; send nothing
  --shift-factor <x>    SIMULATED SHIFT: deliveries matching --shift-dongs or --shift-class take x times as
                        long (${SHIFT_FACTOR_MIN} to ${SHIFT_FACTOR_MAX}; the leg after pickup stretches), labelled as such in the report
  --shift-from <HH:MM>  ... for orders placed from this time of day on (the file's clock; default 04:00, the
                        replay's day start)
  --shift-dongs <list>  ... to these dongs (10-digit codes, comma-separated)
  --shift-class <c>     ... or to dongs of this region class (${REGION_CLASSES_TEXT})
  --estimate-clock <c>  the estimate's orderedAt: wall (default; the run's compressed time, so the model sees
                        the run's Seoul hour) or dataset (the order's own time of day in Seoul on the day
                        before the run: the model sees the hour its minutes were measured at; the drift run)
  REPLAY_TOKEN          the BFF credential (default: minted like pnpm -s dev:token --service replay)`;

/** `90s`, `30m`, `1h`, `1500ms` or plain seconds, to ms. */
export function parseDuration(name: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (m === null) throw new Error(`--${name}: expected a duration like 90s, 30m, 1h, got ${v}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  return Math.round(Number(m[1]) * unit);
}

/** `HH:MM` to seconds since midnight. */
export function parseTimeOfDay(name: string, v: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(v.trim());
  if (m === null || Number(m[1]) > 23 || Number(m[2]) > 59)
    throw new Error(`--${name}: expected HH:MM, got ${v}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60;
}

function num(name: string, v: string | undefined, fallback: number, ok: (n: number) => boolean): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new Error(`--${name}: invalid value ${v}`);
  return n;
}

function httpUrl(name: string, v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`--${name}: not a URL: ${v}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error(`--${name}: expected http(s), got ${v}`);
  return u.href;
}

export function defaultRunId(nowMs: number): string {
  return `r${Math.floor(nowMs / 1000).toString(36)}`;
}

export function parseReplayArgs(argv: readonly string[], nowMs: number = Date.now()): ReplayOptions | 'help' {
  const { values: v } = parseArgs({
    // pnpm forwards a literal '--' in `pnpm replay -- --orders 10`.
    args: argv.filter((a) => a !== '--'),
    options: {
      orders: { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      'max-duration': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'bff-url': { type: 'string' },
      'geo-url': { type: 'string' },
      sink: { type: 'string' },
      brokers: { type: 'string' },
      'topic-prefix': { type: 'string' },
      stores: { type: 'string' },
      'run-id': { type: 'string' },
      data: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'retry-for': { type: 'string' },
      'no-estimates': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'shift-factor': { type: 'string' },
      'shift-from': { type: 'string' },
      'shift-dongs': { type: 'string' },
      'shift-class': { type: 'string' },
      'estimate-clock': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (v.help) return 'help';

  const brokers = (v.brokers ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.some((b) => !/^[^\s:,]+:\d{1,5}$/.test(b)))
    throw new Error(`--brokers: expected host:port[,host:port...]`);
  let sinks: SinkName[];
  const sinkArg = v.sink ?? (brokers.length > 0 ? 'kafka' : 'http');
  if (sinkArg === 'none') sinks = [];
  else {
    const names = sinkArg.split(',').map((s) => s.trim());
    if (names.some((s) => !SINKS.includes(s as SinkName))) {
      throw new Error(`--sink: expected none or a list of ${SINKS.join(', ')}, got ${sinkArg}`);
    }
    sinks = [...new Set(names as SinkName[])];
  }
  if (sinks.includes('kafka') && brokers.length === 0) throw new Error('--sink kafka needs --brokers');
  const topicPrefix = v['topic-prefix'] ?? '';
  if (!/^[a-zA-Z0-9._-]{0,100}$/.test(topicPrefix))
    throw new Error('--topic-prefix: up to 100 of [a-zA-Z0-9._-]');
  const runId = v['run-id'] ?? defaultRunId(nowMs);
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new Error('--run-id: 1-20 letters, digits and . _ : -, starting with a letter or digit');
  }
  const geo = v['geo-url'] ?? 'http://127.0.0.1:8081';
  const shift = parseShift(v);

  return {
    orders: num('orders', v.orders, 1000, (n) => Number.isInteger(n) && n >= 1),
    speed: num('speed', v.speed, 60, (n) => n > 0),
    seed: num('seed', v.seed, 1, (n) => Number.isSafeInteger(n)),
    maxDurationMs:
      v['max-duration'] === undefined ? 30 * 60_000 : parseDuration('max-duration', v['max-duration']),
    fromS: v.from === undefined ? undefined : parseTimeOfDay('from', v.from),
    toS: v.to === undefined ? undefined : parseTimeOfDay('to', v.to),
    bffUrl: httpUrl('bff-url', v['bff-url'] ?? 'http://127.0.0.1:8080'),
    geoUrl: geo === 'none' ? null : httpUrl('geo-url', geo),
    sinks,
    brokers,
    topicPrefix,
    stores: num('stores', v.stores, DEFAULT_STORES, (n) => Number.isInteger(n) && n >= 1),
    runId,
    data: v.data ?? null,
    timeoutMs: num('timeout-ms', v['timeout-ms'], 5_000, (n) => Number.isInteger(n) && n >= 1),
    retryForMs: v['retry-for'] === undefined ? 60_000 : parseDuration('retry-for', v['retry-for']),
    estimates: !v['no-estimates'],
    json: v.json,
    dryRun: v['dry-run'],
    shift,
    estimateClock: parseEstimateClock(v['estimate-clock']),
  };
}

function parseEstimateClock(v: string | undefined): EstimateClock {
  if (v === undefined || v === 'wall' || v === 'dataset') return v ?? 'wall';
  throw new Error(`--estimate-clock: expected wall or dataset, got ${v}`);
}

function parseShift(v: {
  'shift-factor'?: string | undefined;
  'shift-from'?: string | undefined;
  'shift-dongs'?: string | undefined;
  'shift-class'?: string | undefined;
}): ShiftOptions | null {
  const given = ['shift-from', 'shift-dongs', 'shift-class'].filter(
    (k) => v[k as keyof typeof v] !== undefined,
  );
  if (v['shift-factor'] === undefined) {
    if (given.length > 0) throw new Error(`--${given[0]} needs --shift-factor`);
    return null;
  }
  const factor = num(
    'shift-factor',
    v['shift-factor'],
    1,
    (n) => n >= SHIFT_FACTOR_MIN && n <= SHIFT_FACTOR_MAX,
  );
  const dongsArg = v['shift-dongs'];
  const classArg = v['shift-class'];
  if ((dongsArg === undefined) === (classArg === undefined)) {
    throw new Error('--shift-factor needs exactly one of --shift-dongs and --shift-class');
  }
  let dongs: string[] | null = null;
  if (dongsArg !== undefined) {
    dongs = [...new Set(dongsArg.split(',').map((d) => d.trim()))];
    if (dongs.length === 0 || dongs.some((d) => !/^[0-9]{10}$/.test(d))) {
      throw new Error('--shift-dongs: expected 10-digit dong codes, comma-separated');
    }
  }
  if (classArg !== undefined && !REGION_CLASSES.includes(classArg as RegionClass)) {
    throw new Error(`--shift-class: expected one of ${REGION_CLASSES_TEXT}, got ${classArg}`);
  }
  return {
    factor,
    fromS: v['shift-from'] === undefined ? DAY_START_S : parseTimeOfDay('shift-from', v['shift-from']),
    dongs,
    regionClass: classArg === undefined ? null : (classArg as RegionClass),
  };
}
