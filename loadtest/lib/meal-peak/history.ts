/**
 * A traffic history per role for `prescale plan` and `prescale simulate` (services/prescaler), built from the
 * same real demand curve the meal-peak benchmark replays (demand-curve.json: the share of orders per
 * 15-minute slot of the day), scaled to a stated production peak:
 *
 *   node loadtest/lib/meal-peak/history.ts --days 28 --start 2026-11-02 --peak 3000 --seed 1 > history.csv
 *
 * CSV `timestamp,role,rps`, one row per minute per role, timestamps in Asia/Seoul (+09:00). What is data
 * and what is assumed:
 * - data: the shape of the day (the curve, linearly interpolated between slot centres, with the meal-peak
 *   scenario's night floor of 5 % of the peak);
 * - assumed, all options: the peak (`--peak`, BFF estimate requests per second, default 3,000); the role
 *   split of the meal-peak mix (rough 60 %, precise 39.5 %, admin 0.5 %); one Geo call and one ML proxy call
 *   per precise or rough request (no cache hits, no coalescing: an upper bound); Friday to Sunday 10 % busier
 *   (`--weekend`); day-to-day noise (log-normal, sigma 0.05) and minute-to-minute noise (sigma 0.03),
 *   seeded. The dataset has no dates, so nothing weekly comes from it.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { seededRandom } from '../mix.ts';

interface Curve {
  readonly slotMinutes: number;
  readonly share: readonly number[];
}

export interface HistoryOptions {
  readonly days: number;
  /** First day, YYYY-MM-DD (Seoul). */
  readonly start: string;
  /** BFF estimate requests per second in the busiest minute of an average day. */
  readonly peak: number;
  readonly floor: number;
  readonly weekend: number;
  readonly seed: number;
  /** Multiplies every rate of the last day only (a held-out day busier than the history). */
  readonly lastDayFactor: number;
}

const MIX = { rough: 0.6, precise: 0.395, admin: 0.005 } as const;

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The curve's value at a minute of the day, relative to its highest slot, floored. */
export function shapeAt(curve: Curve, minuteOfDay: number, floor: number): number {
  const max = Math.max(...curve.share);
  const n = curve.share.length;
  const pos = minuteOfDay / curve.slotMinutes - 0.5; // slot centres
  const i = Math.floor(pos);
  const frac = pos - i;
  const at = (k: number) => (curve.share[((k % n) + n) % n] ?? 0) / max;
  return Math.max(floor, at(i) * (1 - frac) + at(i + 1) * frac);
}

export function* historyRows(curve: Curve, o: HistoryOptions): Generator<string> {
  const random = seededRandom(o.seed);
  const start = Date.parse(`${o.start}T00:00:00+09:00`);
  if (!Number.isFinite(start)) throw new Error(`--start: not a date: ${o.start}`);
  for (let d = 0; d < o.days; d++) {
    const dayStart = start + d * 86_400_000;
    const weekday = new Date(dayStart + 9 * 3_600_000).getUTCDay(); // Seoul has no DST: a fixed +09:00
    const busy = weekday === 5 || weekday === 6 || weekday === 0 ? o.weekend : 1;
    const dayNoise = Math.exp(0.05 * gaussian(random));
    const last = d === o.days - 1 ? o.lastDayFactor : 1;
    for (let m = 0; m < 1440; m++) {
      const noise = Math.exp(0.03 * gaussian(random));
      const bff = o.peak * shapeAt(curve, m, o.floor) * busy * dayNoise * noise * last;
      const iso = new Date(dayStart + m * 60_000 + 9 * 3_600_000).toISOString().slice(0, 19) + '+09:00';
      const precise = bff * MIX.precise;
      const rough = bff * MIX.rough;
      const rate = (x: number) => x.toFixed(2);
      yield `${iso},vendor-bff-precise,${rate(precise)}`;
      yield `${iso},vendor-bff-rough,${rate(rough)}`;
      yield `${iso},vendor-bff-admin,${rate(bff * MIX.admin)}`;
      yield `${iso},geo,${rate(precise + rough)}`;
      yield `${iso},ml-proxy,${rate(precise + rough)}`;
    }
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      days: { type: 'string', default: '28' },
      start: { type: 'string', default: '2026-11-02' },
      peak: { type: 'string', default: '3000' },
      floor: { type: 'string', default: '0.05' },
      weekend: { type: 'string', default: '1.1' },
      seed: { type: 'string', default: '1' },
      'last-day-factor': { type: 'string', default: '1' },
    },
  });
  const curve = JSON.parse(
    readFileSync(new URL('../../meal-peak/demand-curve.json', import.meta.url), 'utf8'),
  ) as Curve;
  const o: HistoryOptions = {
    days: Number(values.days),
    start: values.start,
    peak: Number(values.peak),
    floor: Number(values.floor),
    weekend: Number(values.weekend),
    seed: Number(values.seed),
    lastDayFactor: Number(values['last-day-factor']),
  };
  process.stdout.write('timestamp,role,rps\n');
  let chunk: string[] = [];
  for (const row of historyRows(curve, o)) {
    chunk.push(row);
    if (chunk.length >= 5000) {
      process.stdout.write(chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length > 0) process.stdout.write(chunk.join('\n') + '\n');
}
