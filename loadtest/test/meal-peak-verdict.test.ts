import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SlotFigures } from '../lib/meal-peak/day.ts';
import { parseOptions } from '../lib/meal-peak/options.ts';
import {
  dayCaches,
  htmlReport,
  markdownSummary,
  verdictHeadline,
  type MealPeakReport,
} from '../lib/meal-peak/report.ts';
import { ROUTES, type Route } from '../lib/meal-peak/routes.ts';
import {
  describeBreach,
  describeIssue,
  evaluateSlo,
  generatorGuard,
  verdictOf,
  type GeneratorSlot,
  type RouteFigures,
} from '../lib/meal-peak/slo.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OPTIONS = parseOptions([], false);

function route(over: Partial<RouteFigures> = {}): RouteFigures {
  return {
    scheduled: 500,
    ok: 500,
    errors: 0,
    errorsByKind: {},
    errorRate: 0,
    p50Ms: 4,
    p95Ms: 9,
    p99Ms: 15,
    maxMs: 30,
    answers: 500,
    degraded: 0,
    degradedShare: 0,
    bySource: { model: 500 },
    offeredRate: 240,
    achievedRate: 240,
    ...over,
  };
}

function gen(index: number, over: Partial<GeneratorSlot> = {}): GeneratorSlot {
  return {
    index,
    label: label(index),
    durationMs: 2083,
    scheduled: 800,
    sent: 800,
    lagP99Ms: 0.4,
    lagMaxMs: 2,
    busy: 0.2,
    startSlipMs: 3,
    ...over,
  };
}

const label = (k: number) =>
  `${String(Math.floor(k / 4)).padStart(2, '0')}:${String((k % 4) * 15).padStart(2, '0')}`;

/** A day of 96 healthy slots; `tweak` changes one slot's routes. */
function slots(
  tweak: (k: number) => Partial<Record<Route, Partial<RouteFigures>>> = () => ({}),
): SlotFigures[] {
  return Array.from({ length: 96 }, (_, k) => {
    const t = tweak(k);
    const routes = Object.fromEntries(ROUTES.map((r) => [r, route(t[r])])) as Record<Route, RouteFigures>;
    return {
      index: k,
      label: label(k),
      plannedRate: k >= 68 ? 400 : 150,
      durationMs: 2083,
      routes,
      total: { scheduled: 1500, ok: 1500, errors: 0, offeredRate: 720, achievedRate: 720 },
      generator: { ...gen(k), peakInFlight: 10, warnings: [] },
      caches: {
        'bff/rough-estimates/l1': {
          lookups: 1000,
          hits: 700,
          stale: 0,
          misses: 300,
          bypassed: 0,
          hitRatio: 0.7,
        },
        'bff/stores/l1': { lookups: 2000, hits: 2000, stale: 0, misses: 0, bypassed: 0, hitRatio: 1 },
      },
      cpuCores: { bff: 0.8, geo: 0.2, ml: 0.2 },
      rssMb: { bff: 500, geo: 150, ml: 220 },
    };
  });
}

const runOf = (over: Partial<Record<Route, Partial<RouteFigures>>> = {}) =>
  Object.fromEntries(ROUTES.map((r) => [r, route({ scheduled: 48_000, ok: 48_000, ...over[r] })])) as Record<
    Route,
    RouteFigures
  >;

describe('meal-peak SLO verdict', () => {
  it('passes a day within every SLO', () => {
    const { breaches, judged, notJudged } = evaluateSlo(slots(), runOf(), OPTIONS.slo, 100);
    expect(breaches).toEqual([]);
    expect(judged).toBe(96 * 3);
    expect(notJudged).toBe(0);
    expect(verdictOf(breaches, { valid: true })).toBe('pass');
  });

  it('fails a day whose p99 breaks the SLO in one slot, naming the route and the slot', () => {
    const day = slots((k) => (k === 74 ? { rough: { p99Ms: 312.5 } } : {}));
    const { breaches } = evaluateSlo(day, runOf(), OPTIONS.slo, 100);
    expect(breaches).toEqual([
      { scope: 'slot', slot: '18:30', route: 'rough', metric: 'p99', value: 312.5, limit: 250, samples: 500 },
    ]);
    const verdict = verdictOf(breaches, { valid: true });
    expect(verdict).toBe('fail');
    expect(
      verdictHeadline({
        verdict,
        breaches,
        guard: generatorGuard([], { maxLagMs: 25, maxStartSlip: 0.1, minSamples: 100 }),
      }),
    ).toMatch(/rough p99 312\.5 ms > 250 ms \(slot 18:30, 500 requests\)/);
  });

  it('judges error rate and degraded share per slot and over the run', () => {
    const day = slots((k) =>
      k === 10
        ? { precise: { errors: 6, ok: 494 } }
        : k === 80
          ? { rough: { degraded: 30, answers: 500 } }
          : {},
    );
    const { breaches } = evaluateSlo(day, runOf({ admin: { errors: 600 } }), OPTIONS.slo, 100);
    expect(breaches.map(describeBreach)).toEqual([
      'precise error rate 1.20 % > 1.00 % (slot 02:30, 500 requests)',
      'rough degraded share 6.00 % > 5.00 % (slot 20:00, 500 requests)',
      'admin error rate 1.25 % > 1.00 % (whole run, 48000 requests)',
    ]);
  });

  it('does not judge a slot with fewer requests of a route than the minimum, but does judge the run', () => {
    const day = slots((k) => (k === 20 ? { admin: { scheduled: 4, ok: 4, p99Ms: 900 } } : {}));
    const { breaches, notJudged } = evaluateSlo(
      day,
      runOf({ admin: { scheduled: 300, ok: 300, p99Ms: 400 } }),
      OPTIONS.slo,
      100,
    );
    expect(notJudged).toBe(1);
    expect(breaches).toEqual([
      { scope: 'run', slot: null, route: 'admin', metric: 'p99', value: 400, limit: 250, samples: 300 },
    ]);
  });
});

describe('meal-peak generator guard', () => {
  const limits = { maxLagMs: 25, maxStartSlip: 0.1, minSamples: 100 };

  it('keeps a run valid while the generator kept the schedule', () => {
    const g = generatorGuard(
      Array.from({ length: 96 }, (_, k) => gen(k)),
      limits,
    );
    expect(g).toMatchObject({
      valid: true,
      issues: [],
      worstLagP99Ms: 0.4,
      worstStartSlipMs: 3,
      sentShare: 1,
    });
  });

  it('makes a run invalid when the generator sent late, naming the slot, and invalid beats fail', () => {
    const g = generatorGuard([gen(0), gen(73, { lagP99Ms: 41 }), gen(74)], limits);
    expect(g.valid).toBe(false);
    expect(g.issues).toEqual([{ slot: '18:15', what: 'lag', value: 41, limit: 25, invalidates: true }]);
    const breach = evaluateSlo(
      slots((k) => (k === 73 ? { precise: { p99Ms: 300 } } : {})),
      runOf(),
      OPTIONS.slo,
      100,
    ).breaches;
    expect(verdictOf(breach, g)).toBe('invalid');
    expect(verdictHeadline({ verdict: 'invalid', breaches: breach, guard: g })).toMatch(
      /INVALID.*slot 18:15: generator send lag p99 41\.0 ms > 25 ms/,
    );
  });

  it('only reports the lag of a slot with too few requests to judge (its p99 is its latest send)', () => {
    const g = generatorGuard([gen(0, { scheduled: 21, sent: 21, lagP99Ms: 35 }), gen(1)], limits);
    expect(g.valid).toBe(true);
    expect(g.issues).toEqual([{ slot: '00:00', what: 'lag', value: 35, limit: 25, invalidates: false }]);
    expect(describeIssue(g.issues[0]!)).toMatch(/too few requests to judge/);
  });

  it('makes a run invalid when a slot started off plan by more than its share of the slot', () => {
    const g = generatorGuard(
      [gen(0, { startSlipMs: 250 }), gen(1, { startSlipMs: -300 }), gen(2, { startSlipMs: 150 })],
      limits,
    );
    expect(g.issues.map((i) => [i.slot, i.what, i.invalidates])).toEqual([
      ['00:00', 'start slip', true],
      ['00:15', 'start slip', true],
    ]);
    expect(g.worstStartSlipMs).toBe(-300);
  });

  it('only warns about a busy generator and requests refused at the in-flight cap (the suite held them)', () => {
    const g = generatorGuard([gen(0, { busy: 0.95 }), gen(1, { sent: 790 })], limits);
    expect(g.valid).toBe(true);
    expect(g.issues.map((i) => [i.what, i.invalidates])).toEqual([
      ['busy', false],
      ['not sent', false],
    ]);
    expect(g.sentShare).toBeCloseTo(1590 / 1600, 10);
  });
});

function report(day: SlotFigures[], over: Partial<MealPeakReport> = {}): MealPeakReport {
  const guard = generatorGuard(
    day.map((s) => s.generator),
    { maxLagMs: 25, maxStartSlip: 0.1, minSamples: 100 },
  );
  const { breaches, judged, notJudged } = evaluateSlo(day, runOf(), OPTIONS.slo, 100);
  const verdict = verdictOf(breaches, guard);
  return {
    scenario: 'meal-peak',
    startedAt: '2026-12-06T09:00:00.000Z',
    quick: false,
    verdict,
    summary: verdictHeadline({ verdict, breaches, guard }),
    breaches,
    guard,
    slotsJudged: judged,
    slotsNotJudged: notJudged,
    configuration: {
      mode: 'local',
      target: null,
      asShipped: true,
      overrides: {},
      credential: 'service JWT',
      adminTraffic: '8 owners',
      options: OPTIONS,
      machine: 'machine: test, 2 cores',
    },
    plan: {
      speed: 432,
      slotSeconds: 2.083,
      daySeconds: 200,
      peakRate: 400,
      floor: 0.05,
      requests: 48_000,
      demand: 'test',
      hotSpots: 'test',
    },
    warmup: null,
    run: runOf(),
    caches: dayCaches(day),
    slots: day,
    ...over,
  };
}

describe('meal-peak report', () => {
  const day = slots((k) => (k === 74 ? { rough: { p99Ms: 312.5 } } : {}));
  const fake = 'window.echarts={init:function(){return{setOption:function(){},resize:function(){}}}};';

  it('puts the verdict first and the data of every slot in the page', () => {
    const html = htmlReport(report(day), fake);
    const verdictAt = html.indexOf('meal-peak: FAIL');
    expect(verdictAt).toBeGreaterThan(0);
    expect(verdictAt).toBeLessThan(html.indexOf('id="throughput"'));
    expect(html).toContain('rough p99 312.5 ms &gt; 250 ms (slot 18:30, 500 requests)');
    // The data the charts draw, and the table of every slot.
    const data = /<script type="application\/json" id="meal-peak-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const parsed = JSON.parse(data) as MealPeakReport;
    expect(parsed.slots).toHaveLength(96);
    expect(parsed.slots[74]!.routes.rough.p99Ms).toBe(312.5);
    for (const s of day) expect(html).toContain(`<td>${s.label}</td>`);
    expect(html).toContain('<td>313</td>'); // the slow slot's p99 in the table
    expect(html).toContain(fake);
  });

  it('loads nothing from elsewhere: no external script, style, image or URL outside the inlined library', () => {
    const lib = readFileSync(
      createRequire(join(ROOT, 'services', 'admin-web', 'package.json')).resolve('echarts/dist/echarts.min'),
      'utf8',
    );
    const html = htmlReport(report(day), lib);
    // The library is in the page, inline, once; the rest is the page's own markup, script and data.
    const inlined = `<script>${lib.replace(/<\/script/gi, '<\\/script')}</script>`;
    expect(html.split(inlined)).toHaveLength(2);
    const own = html.replace(inlined, '');
    // Booleans, not toMatch: a failure must not print a megabyte of page.
    expect(/https?:\/\//i.test(own)).toBe(false);
    expect(/<script[^>]*\bsrc\s*=/i.test(own)).toBe(false);
    expect(/<(link|img|iframe|object|embed)\b/i.test(own)).toBe(false);
    expect(/@import|url\(/i.test(own)).toBe(false);
    // Only the data's and the page script's elements close outside the library: no data ends one early.
    expect(own.match(/<\/script>/g)).toHaveLength(2);
  });

  it('says on the page when the library is missing, and keeps the tables', () => {
    const html = htmlReport(report(day), null);
    expect(html).toMatch(/ECharts was not found/);
    expect(html).toContain('<td>18:30</td>');
  });

  it('marks an invalid run as the generator failing, not the suite', () => {
    const bad = day.map((s) => (s.index === 73 ? { ...s, generator: { ...s.generator, lagP99Ms: 60 } } : s));
    const r = report(bad);
    expect(r.verdict).toBe('invalid');
    const md = markdownSummary(r, { json: 'report.json', html: 'report.html' });
    expect(md.split('\n')[0]).toBe('# meal-peak: INVALID');
    expect(md).toMatch(/could not keep up/i);
    expect(md).toContain('slot 18:15: generator send lag p99 60.0 ms > 25 ms (invalidates)');
  });

  it('sums the slots into the day hit ratio per tier', () => {
    const c = dayCaches(day)!;
    expect(c['bff/rough-estimates/l1']).toMatchObject({
      lookups: 96_000,
      hits: 67_200,
      misses: 28_800,
      hitRatio: 0.7,
    });
    expect(dayCaches(day.map((s) => ({ ...s, caches: null })))).toBeNull();
  });
});
