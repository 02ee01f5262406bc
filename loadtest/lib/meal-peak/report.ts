/**
 * The meal-peak report: the whole figures as JSON, a Markdown summary, and one self-contained HTML page
 * (ECharts inlined, the data inlined: it opens offline, from a CI artifact or a mail) with the SLO verdict at
 * the top and, over the compressed day, per route: throughput, latency percentiles and errors; hit ratio per
 * cache tier; CPU per process; and the generator's own lag.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WarmupFigures, SlotFigures } from './day.ts';
import type { TierRatio } from './metrics.ts';
import type { MealPeakOptions } from './options.ts';
import { ROUTES, type Route } from './routes.ts';
import {
  describeBreach,
  describeIssue,
  type Breach,
  type GuardResult,
  type RouteFigures,
  type Verdict,
} from './slo.ts';

export interface MealPeakReport {
  readonly scenario: 'meal-peak';
  readonly startedAt: string;
  readonly quick: boolean;
  readonly verdict: Verdict;
  /** One line: what the verdict rests on. */
  readonly summary: string;
  readonly breaches: readonly Breach[];
  readonly guard: GuardResult;
  readonly slotsJudged: number;
  readonly slotsNotJudged: number;
  readonly configuration: {
    readonly mode: 'local' | 'remote';
    readonly target: string | null;
    /** Local mode: the run command's configuration with no service key overridden from the environment. */
    readonly asShipped: boolean | null;
    readonly overrides: Readonly<Record<string, string>>;
    readonly credential: string;
    readonly adminTraffic: string;
    readonly options: MealPeakOptions;
    readonly machine: string;
  };
  readonly plan: {
    readonly speed: number;
    readonly slotSeconds: number;
    readonly daySeconds: number;
    readonly peakRate: number;
    readonly floor: number;
    readonly requests: number;
    readonly demand: string;
    readonly hotSpots: string;
  };
  readonly warmup: WarmupFigures | null;
  readonly run: Readonly<Record<Route, RouteFigures>>;
  /** Hit ratio per `<process>/<cache>/<tier>` over the whole day; null when /metrics was not read. */
  readonly caches: Readonly<Record<string, TierRatio>> | null;
  readonly slots: readonly SlotFigures[];
}

/** Sum of the slots' cache counters: the whole day's hit ratio per tier. */
export function dayCaches(slots: readonly SlotFigures[]): Record<string, TierRatio> | null {
  if (slots.every((s) => s.caches === null)) return null;
  const acc: Record<string, { hits: number; stale: number; misses: number; bypassed: number }> = {};
  for (const s of slots) {
    for (const [k, v] of Object.entries(s.caches ?? {})) {
      const a = (acc[k] ??= { hits: 0, stale: 0, misses: 0, bypassed: 0 });
      a.hits += v.hits;
      a.stale += v.stale;
      a.misses += v.misses;
      a.bypassed += v.bypassed;
    }
  }
  return Object.fromEntries(
    Object.entries(acc).map(([k, a]) => {
      const lookups = a.hits + a.stale + a.misses;
      return [k, { lookups, ...a, hitRatio: lookups > 0 ? (a.hits + a.stale) / lookups : null }];
    }),
  );
}

const ms = (x: number | null) =>
  x === null ? '–' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
const pct = (x: number | null) =>
  x === null ? '–' : `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : x < 0.1 ? 2 : 1)} %`;
const VERDICT_TEXT: Record<Verdict, string> = {
  pass: 'PASS: every route within its SLO in every judged slot and over the run',
  fail: 'FAIL: SLO broken',
  invalid: 'INVALID: the load generator could not keep up; the figures say nothing about the suite',
};

export function verdictHeadline(r: Pick<MealPeakReport, 'verdict' | 'breaches' | 'guard'>): string {
  if (r.verdict === 'invalid') {
    const first = r.guard.issues
      .filter((i) => i.invalidates)
      .slice(0, 3)
      .map(describeIssue);
    return `${VERDICT_TEXT.invalid} (${first.join('; ')})`;
  }
  if (r.verdict === 'fail') {
    const shown = r.breaches.slice(0, 3).map(describeBreach);
    const more = r.breaches.length > 3 ? `; and ${r.breaches.length - 3} more` : '';
    return `${VERDICT_TEXT.fail}: ${shown.join('; ')}${more}`;
  }
  return VERDICT_TEXT.pass;
}

function routeRows(run: Readonly<Record<Route, RouteFigures>>, slo: MealPeakOptions['slo']): string[] {
  return ROUTES.map((r) => {
    const f = run[r];
    return `| ${r} | ${f.scheduled} | ${f.offeredRate} | ${ms(f.p50Ms)} | ${ms(f.p95Ms)} | ${ms(f.p99Ms)} | ${slo[r].p99Ms} | ${pct(f.errorRate)} | ${pct(f.degradedShare)} |`;
  });
}

export function markdownSummary(r: MealPeakReport, files: { json: string; html: string }): string {
  const o = r.configuration.options;
  const lines: string[] = [];
  lines.push(`# meal-peak: ${r.verdict.toUpperCase()}`, '', verdictHeadline(r), '');
  if (r.quick) lines.push('**BENCH_QUICK**: a short functional run; its numbers mean little.', '');
  if (r.breaches.length > 0) {
    lines.push('## SLO breaches', '');
    for (const b of r.breaches) lines.push(`- ${describeBreach(b)}`);
    lines.push('');
  }
  lines.push('## Generator', '');
  lines.push(
    `${r.guard.valid ? 'Kept up' : '**Could not keep up: run invalid**'}: worst slot send lag p99 ${ms(r.guard.worstLagP99Ms)} ms ` +
      `(limit ${o.maxLagMs} ms), worst slot start ${r.guard.worstStartSlipMs} ms off plan ` +
      `(limit ${Math.round(o.maxStartSlip * 100)} % of a slot), ${pct(r.guard.sentShare)} of the scheduled requests sent.`,
  );
  for (const i of r.guard.issues.slice(0, 20))
    lines.push(`- ${describeIssue(i)}${i.invalidates ? ' (invalidates)' : ''}`);
  if (r.guard.issues.length > 20) lines.push(`- … ${r.guard.issues.length - 20} more in the JSON`);
  lines.push('', '## Whole run', '');
  lines.push('| route | requests | offered/s | p50 ms | p95 ms | p99 ms | p99 SLO ms | errors | degraded |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  lines.push(...routeRows(r.run, o.slo), '');
  lines.push(
    `Slots judged per route: ${r.slotsJudged} (route-slots with at least ${o.minSamples} requests); ` +
      `${r.slotsNotJudged} with fewer were shown, not judged. Error rate at most ${pct(o.slo.precise.maxErrorRate)} ` +
      `(precise), degraded share at most ${pct(o.slo.precise.maxDegradedShare)}.`,
    '',
  );
  if (r.caches !== null) {
    lines.push('## Cache hit ratio over the day', '');
    lines.push('| process/cache/tier | lookups | hit ratio | bypassed |', '| --- | ---: | ---: | ---: |');
    for (const [k, v] of Object.entries(r.caches).sort()) {
      lines.push(`| ${k} | ${v.lookups} | ${pct(v.hitRatio)} | ${v.bypassed} |`);
    }
    lines.push('');
  }
  const busiest = [...r.slots].sort((a, b) => b.plannedRate - a.plannedRate || a.index - b.index).slice(0, 8);
  busiest.sort((a, b) => a.index - b.index);
  lines.push('## Busiest slots', '');
  lines.push(
    '| slot | offered/s | achieved/s | precise p99 | rough p99 | admin p99 | errors | rough L1 hit | lag p99 |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of busiest) {
    lines.push(
      `| ${s.label} | ${s.total.offeredRate} | ${s.total.achievedRate} | ${ms(s.routes.precise.p99Ms)} | ${ms(s.routes.rough.p99Ms)} | ` +
        `${ms(s.routes.admin.p99Ms)} | ${s.total.errors} | ${pct(s.caches?.['bff/rough-estimates/l1']?.hitRatio ?? null)} | ${ms(s.generator.lagP99Ms)} |`,
    );
  }
  lines.push('', '## Configuration', '');
  const c = r.configuration;
  lines.push(
    `- ${c.mode === 'local' ? `local suite, ${c.asShipped ? 'AS SHIPPED' : `NOT AS SHIPPED (overrides: ${JSON.stringify(c.overrides)})`}` : `remote target ${c.target}`}; credential: ${c.credential}; admin: ${c.adminTraffic}`,
    `- day: ${r.plan.daySeconds.toFixed(0)} s (speed ${r.plan.speed}, ${r.plan.slotSeconds.toFixed(2)} s per 15-minute slot), ` +
      `peak ${r.plan.peakRate}/s, floor ${pct(r.plan.floor)} of peak, ${r.plan.requests} requests; warm-up ${o.warmupMs / 1000} s`,
    `- mix weights: ${Object.entries(o.mix)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; ${o.pageSize} stores per list; ` +
      `${o.stores} stores, Zipf s=${o.zipfExponent}; destinations within ${o.jitterM} m of hot spots`,
    `- demand: ${r.plan.demand}`,
    `- hot spots: ${r.plan.hotSpots}`,
    `- ${c.machine.replace(/\n\s*/g, '; ')}`,
    '',
    `Files: ${files.json}, ${files.html}`,
    '',
  );
  return lines.join('\n');
}

/** `<` escaped so the JSON cannot close the script element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The page's own chart code (runs after the inlined ECharts). */
const PAGE_SCRIPT = String.raw`
(function () {
  var report = JSON.parse(document.getElementById('meal-peak-data').textContent);
  var slots = report.slots;
  var x = slots.map(function (s) { return s.label; });
  var routes = ['precise', 'rough', 'admin'];
  var colors = { precise: '#3366cc', rough: '#dc7f00', admin: '#109618' };
  function chart(id, option) {
    var el = document.getElementById(id);
    if (typeof echarts === 'undefined') { el.textContent = 'ECharts was not inlined: see the tables below.'; return; }
    var c = echarts.init(el);
    option.tooltip = option.tooltip || { trigger: 'axis' };
    option.legend = option.legend || { type: 'scroll', top: 0 };
    option.grid = { left: 60, right: 30, top: 40, bottom: 60 };
    option.xAxis = { type: 'category', data: x, name: 'Seoul time (compressed day)', nameLocation: 'middle', nameGap: 30 };
    option.dataZoom = [{ type: 'inside' }, { type: 'slider', height: 14, bottom: 4 }];
    c.setOption(option);
    window.addEventListener('resize', function () { c.resize(); });
  }
  function line(name, data, extra) {
    // Points where the data is sparse (the admin trickle, slots with no request of a route), lines elsewhere.
    var present = data.filter(function (v) { return v !== null && v !== undefined; }).length;
    var s = { name: name, type: 'line', showSymbol: present < data.length / 2, symbolSize: 4, connectNulls: false, data: data };
    for (var k in extra || {}) s[k] = extra[k];
    return s;
  }
  chart('throughput', {
    yAxis: { type: 'value', name: 'requests/s' },
    series: [
      line('offered (plan)', slots.map(function (s) { return s.plannedRate; }), { lineStyle: { type: 'dashed', color: '#999' }, itemStyle: { color: '#999' } }),
      line('answered, all routes', slots.map(function (s) { return s.total.achievedRate; }), { itemStyle: { color: '#333' } }),
    ].concat(routes.map(function (r) {
      return line(r + ' answered', slots.map(function (s) { return s.routes[r].achievedRate; }), { itemStyle: { color: colors[r] } });
    })),
  });
  routes.forEach(function (r) {
    var limit = report.configuration.options.slo[r].p99Ms;
    chart('latency-' + r, {
      // Up to the SLO at least, so its line is always on the chart.
      yAxis: { type: 'log', name: 'ms (log)', min: 0.1, max: function (v) { return Math.max(v.max, limit * 1.5); } },
      series: [
        line('p50', slots.map(function (s) { return s.routes[r].p50Ms; })),
        line('p95', slots.map(function (s) { return s.routes[r].p95Ms; })),
        line('p99', slots.map(function (s) { return s.routes[r].p99Ms; }), {
          markLine: { symbol: 'none', data: [{ yAxis: limit, name: 'p99 SLO' }], label: { formatter: 'SLO ' + limit + ' ms' }, lineStyle: { color: '#c00' } },
        }),
      ],
    });
  });
  chart('errors', {
    yAxis: { type: 'value', name: '%' },
    series: routes.map(function (r) {
      return line(r + ' errors', slots.map(function (s) { return s.routes[r].errorRate === null ? null : s.routes[r].errorRate * 100; }), { itemStyle: { color: colors[r] } });
    }).concat(['precise', 'rough'].map(function (r) {
      return line(r + ' degraded', slots.map(function (s) { return s.routes[r].degradedShare === null ? null : s.routes[r].degradedShare * 100; }), { itemStyle: { color: colors[r] }, lineStyle: { type: 'dotted' } });
    })),
  });
  var cacheKeys = {};
  slots.forEach(function (s) { Object.keys(s.caches || {}).forEach(function (k) { if (s.caches[k].lookups > 0) cacheKeys[k] = true; }); });
  var keys = Object.keys(cacheKeys).sort();
  if (keys.length === 0) document.getElementById('caches').textContent = 'No cache lookups were read (a remote target, or no /metrics).';
  else chart('caches', {
    yAxis: { type: 'value', name: 'hit ratio %', min: 0, max: 100 },
    series: keys.map(function (k) {
      return line(k, slots.map(function (s) { var t = s.caches && s.caches[k]; return t && t.hitRatio !== null ? t.hitRatio * 100 : null; }));
    }),
  });
  var procs = {};
  slots.forEach(function (s) { Object.keys(s.cpuCores || {}).forEach(function (p) { procs[p] = true; }); });
  var plist = Object.keys(procs).sort();
  if (plist.length === 0) document.getElementById('cpu').textContent = 'CPU was not read (a remote target).';
  else chart('cpu', {
    yAxis: { type: 'value', name: 'cores' },
    series: plist.map(function (p) { return line(p, slots.map(function (s) { return s.cpuCores ? s.cpuCores[p] : null; }), { areaStyle: { opacity: 0.15 }, stack: 'cpu' }); }),
  });
  chart('generator', {
    yAxis: [{ type: 'value', name: 'lag p99 ms' }, { type: 'value', name: 'start slip ms' }],
    series: [
      line('send lag p99', slots.map(function (s) { return s.generator.lagP99Ms; }), {
        markLine: { symbol: 'none', data: [{ yAxis: report.configuration.options.maxLagMs }], label: { formatter: 'invalid above ' + report.configuration.options.maxLagMs + ' ms' }, lineStyle: { color: '#c00' } },
      }),
      line('start slip', slots.map(function (s) { return s.generator.startSlipMs; }), { yAxisIndex: 1 }),
    ],
  });
})();
`;

function slotTable(slots: readonly SlotFigures[]): string {
  const head =
    '<tr><th>slot</th><th>plan/s</th><th>offered/s</th><th>achieved/s</th>' +
    ROUTES.map((r) => `<th>${r} p50</th><th>${r} p95</th><th>${r} p99</th><th>${r} err</th>`).join('') +
    '<th>degraded (precise/rough)</th><th>rough L1 hit</th><th>stores L1 hit</th><th>lag p99</th><th>start slip</th></tr>';
  const rows = slots.map((s) => {
    const cells = [
      s.label,
      String(s.plannedRate),
      String(s.total.offeredRate),
      String(s.total.achievedRate),
      ...ROUTES.flatMap((r) => [
        ms(s.routes[r].p50Ms),
        ms(s.routes[r].p95Ms),
        ms(s.routes[r].p99Ms),
        String(s.routes[r].errors),
      ]),
      `${pct(s.routes.precise.degradedShare)} / ${pct(s.routes.rough.degradedShare)}`,
      pct(s.caches?.['bff/rough-estimates/l1']?.hitRatio ?? null),
      pct(s.caches?.['bff/stores/l1']?.hitRatio ?? null),
      ms(s.generator.lagP99Ms),
      s.generator.startSlipMs === null ? '–' : `${s.generator.startSlipMs} ms`,
    ];
    return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  });
  return `<table class="slots"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/**
 * The page. `echartsSource` is the library's dist file (echarts.min.js), inlined as is; null leaves the
 * charts out (the tables stay) and says so on the page.
 */
export function htmlReport(r: MealPeakReport, echartsSource: string | null): string {
  const o = r.configuration.options;
  const colour = r.verdict === 'pass' ? '#1b7f3b' : r.verdict === 'fail' ? '#b00020' : '#b36b00';
  const list = (items: readonly string[]) =>
    items.length === 0 ? '' : `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
  const runTable =
    '<table><thead><tr><th>route</th><th>requests</th><th>offered/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>p99 SLO</th><th>errors</th><th>degraded</th></tr></thead><tbody>' +
    ROUTES.map((k) => {
      const f = r.run[k];
      return `<tr><td>${k}</td><td>${f.scheduled}</td><td>${f.offeredRate}</td><td>${ms(f.p50Ms)}</td><td>${ms(f.p95Ms)}</td><td>${ms(f.p99Ms)}</td><td>${o.slo[k].p99Ms}</td><td>${pct(f.errorRate)}</td><td>${pct(f.degradedShare)}</td></tr>`;
    }).join('') +
    '</tbody></table>';
  const cacheTable =
    r.caches === null
      ? '<p>Not read (remote target).</p>'
      : '<table><thead><tr><th>process/cache/tier</th><th>lookups</th><th>hit ratio</th><th>bypassed</th></tr></thead><tbody>' +
        Object.entries(r.caches)
          .sort()
          .map(
            ([k, v]) =>
              `<tr><td>${escapeHtml(k)}</td><td>${v.lookups}</td><td>${pct(v.hitRatio)}</td><td>${v.bypassed}</td></tr>`,
          )
          .join('') +
        '</tbody></table>';
  const c = r.configuration;
  const config = [
    c.mode === 'local'
      ? `local suite, ${c.asShipped ? 'as shipped' : `NOT as shipped: ${JSON.stringify(c.overrides)}`}`
      : `remote target ${c.target ?? ''}`,
    `credential: ${c.credential}; admin traffic: ${c.adminTraffic}`,
    `day of ${r.plan.daySeconds.toFixed(0)} s (speed ${r.plan.speed}; ${r.plan.slotSeconds.toFixed(2)} s per 15-minute slot), peak ${r.plan.peakRate}/s, floor ${pct(r.plan.floor)} of peak, ${r.plan.requests} requests, warm-up ${o.warmupMs / 1000} s`,
    `mix weights ${Object.entries(o.mix)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}; ${o.pageSize} stores per list; ${o.stores} stores, Zipf s=${o.zipfExponent}; destinations within ${o.jitterM} m of hot spots`,
    `demand: ${r.plan.demand}`,
    `hot spots: ${r.plan.hotSpots}`,
    c.machine.replace(/\n\s*/g, '; '),
    `started ${r.startedAt}${r.quick ? ' (BENCH_QUICK: a functional check, numbers mean little)' : ''}`,
  ];
  const library =
    echartsSource === null
      ? '<p class="warn">ECharts was not found (pnpm install), so the page has no charts; the tables below hold every figure.</p>'
      : `<script>${echartsSource.replace(/<\/script/gi, '<\\/script')}</script>`;
  const box = (id: string, title: string, h = 320) =>
    `<h3>${escapeHtml(title)}</h3><div id="${id}" class="chart" style="height:${h}px"></div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>meal-peak ${r.verdict.toUpperCase()} ${escapeHtml(r.startedAt)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px; color: #222; }
.verdict { color: #fff; background: ${colour}; padding: 12px 16px; border-radius: 6px; }
.verdict h1 { margin: 0 0 4px; font-size: 22px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; white-space: nowrap; }
td:first-child, th:first-child { text-align: left; }
table.slots { font-size: 12px; display: block; overflow-x: auto; }
.chart { width: 100%; }
.warn { color: #b36b00; }
</style>
</head>
<body>
<div class="verdict"><h1>meal-peak: ${r.verdict.toUpperCase()}</h1><div>${escapeHtml(verdictHeadline(r))}</div></div>
${r.breaches.length > 0 ? `<h2>SLO breaches</h2>${list(r.breaches.map(describeBreach))}` : ''}
<h2>Generator</h2>
<p>${r.guard.valid ? 'Kept up' : '<b>Could not keep up: the run is invalid</b>'}: worst slot send lag p99 ${ms(r.guard.worstLagP99Ms)} ms (limit ${o.maxLagMs} ms), worst slot start ${r.guard.worstStartSlipMs} ms off plan, ${pct(r.guard.sentShare)} of the scheduled requests sent.</p>
${list(r.guard.issues.slice(0, 30).map((i) => describeIssue(i) + (i.invalidates ? ' (invalidates)' : '')))}
<h2>Whole run</h2>
${runTable}
<p>Latency of successful requests from their scheduled time (open model). Slots judged per route only with at least ${o.minSamples} requests of it (${r.slotsJudged} judged, ${r.slotsNotJudged} shown only).</p>
${list(config)}
${library}
${box('throughput', 'Throughput: offered (plan) and answered per route')}
${ROUTES.map((k) => box(`latency-${k}`, `Latency ${k}: p50, p95, p99 (SLO ${o.slo[k].p99Ms} ms)`)).join('\n')}
${box('errors', 'Errors and degraded answers per route (%)')}
<h2>Cache hit ratio per tier</h2>
${cacheTable}
${box('caches', 'Hit ratio per process/cache/tier over the day')}
${box('cpu', 'CPU cores per process')}
${box('generator', "The generator's own send lag and slot start slip")}
<h2>Every slot</h2>
${slotTable(r.slots)}
<script type="application/json" id="meal-peak-data">${scriptJson(r)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

export interface ReportFiles {
  readonly dir: string;
  readonly json: string;
  readonly markdown: string;
  readonly html: string;
}

/**
 * Writes the three files to `<resultsDir>/meal-peak/<startedAt>/`: a folder of its own, because the release
 * gate takes the newest `loadtest/results/*.json` for `pnpm bench`'s report.
 */
export function writeReport(
  resultsDir: string,
  r: MealPeakReport,
  echartsSource: string | null,
): ReportFiles {
  const dir = join(resultsDir, 'meal-peak', r.startedAt.replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  const files = {
    dir,
    json: join(dir, 'report.json'),
    markdown: join(dir, 'summary.md'),
    html: join(dir, 'report.html'),
  };
  writeFileSync(files.json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(files.markdown, markdownSummary(r, { json: 'report.json', html: 'report.html' }));
  writeFileSync(files.html, htmlReport(r, echartsSource));
  return files;
}
