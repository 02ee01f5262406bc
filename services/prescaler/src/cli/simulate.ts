/**
 * prescaler simulate: replays a day of traffic against four policies and prints, per policy, the minutes
 * above the SLO and the replica-hours (services/prescaler/README.md, "The simulator"):
 *   reactive  the HPAs alone (the chart's minReplicas);
 *   cron      the HPAs with the schedules of --values (the chart's hand-written prescale.schedules);
 *   learned   the HPAs with the schedules of --plan-values (what `prescaler plan` wrote), when given;
 *   oracle    no HPA: each minute's replicas = ceil(rate / capacity x headroom), placed pod start + node
 *             delay earlier (it knew the day in advance): the yardstick.
 *
 *   node services/prescaler/src/cli/simulate.ts --traffic <csv|json> --capacity <capacity.json>
 *     --values <values.yaml> [--plan-values <learned values.yaml>] [--day YYYY-MM-DD] [--json <out.json>]
 *     [--headroom 1.2] [--min R] [--pod-start-s N] [--node-delay-s N] [--pods-per-node N]
 *     [--metrics-delay-s N] [--cron-delay-s N] [--role-label role] [--charts <charts dir>]
 *
 * Exit 0 with the table on stdout, 2 on input it cannot use.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseCapacity } from '../learn/capacity.ts';
import { byRole, parseHistory } from '../learn/history.ts';
import { DEFAULT_NODE_DELAY_S, DEFAULT_POD_START_S, MAX_HOLD_S } from '../learn/plan.ts';
import {
  CLUSTER_DEFAULTS,
  type ClusterModel,
  formatTable,
  type PolicyInput,
  type PoolModel,
  type RoleModel,
  simulateDay,
} from '../learn/simulate.ts';
import { InputError, type TargetId, TARGETS } from '../learn/targets.ts';
import { DAY_S, dayOfDate, fixedUtcOffsetSeconds, localDate, localTime } from '../learn/time.ts';
import { readSuite, readTargets, replaySchedules } from '../learn/values.ts';
import { type Io, numberFlag, PROCESS_IO, readChartValues, readText, REPO_CHARTS } from './files.ts';

const USAGE = `usage: node services/prescaler/src/cli/simulate.ts --traffic <csv|json> --capacity <capacity.json>
    --values <values.yaml> [--plan-values <learned values.yaml>] [options]
  --traffic          the day(s) to replay: CSV "timestamp,role,rps" or a Prometheus query_range JSON export
  --capacity         per-pod capacity per role (services/prescaler/src/learn/capacity.schema.json)
  --values           suite values: the HPAs' overrides and the hand-written prescale.schedules (policy "cron")
  --plan-values      values written by \`prescaler plan\` (policy "learned")
  --day              the local day (chart timeZone) to replay, YYYY-MM-DD (default: the whole traffic file)
  --json             also write the results, timelines included, to this file
  --headroom         the oracle's headroom (default 1.2)
  --min              the oracle's floor (default: each HPA's minReplicas)
  --pod-start-s      bound to Ready, seconds (default: the capacity file's podStartSeconds, else ${DEFAULT_POD_START_S})
  --node-delay-s     a new node's provisioning, seconds (default ${DEFAULT_NODE_DELAY_S})
  --pods-per-node    pods of one role per node (default 4)
  --metrics-delay-s  how old the metrics the HPA reads are (default ${CLUSTER_DEFAULTS.metricsDelayS})
  --cron-delay-s     from a schedule's minute to its values being set (default ${CLUSTER_DEFAULTS.cronDelayS})
  --role-label       the Prometheus label naming the role (default role)
  --charts           the charts folder the HPAs' settings come from (default: this repository's)`;

export function main(argv: readonly string[], io: Io = PROCESS_IO): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.filter((a) => a !== '--'),
      options: {
        traffic: { type: 'string' },
        capacity: { type: 'string' },
        values: { type: 'string' },
        'plan-values': { type: 'string' },
        day: { type: 'string' },
        json: { type: 'string' },
        headroom: { type: 'string' },
        min: { type: 'string' },
        'pod-start-s': { type: 'string' },
        'node-delay-s': { type: 'string' },
        'pods-per-node': { type: 'string' },
        'metrics-delay-s': { type: 'string' },
        'cron-delay-s': { type: 'string' },
        'role-label': { type: 'string' },
        charts: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  try {
    for (const flag of ['traffic', 'capacity', 'values'] as const) {
      if (values[flag] === undefined) throw new InputError(`--${flag} is required`);
    }
    const seconds = (flag: string, v: string | undefined, d: number) =>
      numberFlag(v, flag, d, (n) => n >= 0 && n <= 3600, 'seconds, 0..3600');
    const headroom = numberFlag(
      values.headroom,
      '--headroom',
      1.2,
      (n) => n > 0 && n <= 10,
      'a number > 0 and <= 10',
    );
    const min =
      values.min === undefined
        ? undefined
        : numberFlag(
            values.min,
            '--min',
            1,
            (n) => Number.isInteger(n) && n >= 1 && n <= 1000,
            'a whole number 1..1000',
          );
    const podStartOverride =
      values['pod-start-s'] === undefined ? undefined : seconds('--pod-start-s', values['pod-start-s'], 0);
    const podsPerNode = numberFlag(
      values['pods-per-node'],
      '--pods-per-node',
      4,
      (n) => Number.isInteger(n) && n >= 1 && n <= 500,
      'a whole number 1..500',
    );
    const cluster: ClusterModel = {
      ...CLUSTER_DEFAULTS,
      nodeDelayS: seconds('--node-delay-s', values['node-delay-s'], DEFAULT_NODE_DELAY_S),
      metricsDelayS: seconds('--metrics-delay-s', values['metrics-delay-s'], CLUSTER_DEFAULTS.metricsDelayS),
      cronDelayS: seconds('--cron-delay-s', values['cron-delay-s'], CLUSTER_DEFAULTS.cronDelayS),
    };

    const samples = parseHistory(readText(values.traffic!, 'traffic'), values['role-label']);
    const capacity = parseCapacity(readText(values.capacity!, 'capacity'));
    const valuesText = readText(values.values!, 'values');
    const suite = readSuite(valuesText);
    const targets = readTargets(readChartValues(valuesText, values.charts ?? REPO_CHARTS));
    const learned = values['plan-values']
      ? readSuite(readText(values['plan-values'], 'plan values'))
      : undefined;

    let from = Infinity;
    let to = -Infinity;
    for (const s of samples) {
      from = Math.min(from, s.t);
      to = Math.max(to, s.t);
    }
    const offsetS = fixedUtcOffsetSeconds(suite.timeZone, from - 8 * DAY_S, to + DAY_S);
    let startS: number;
    let durationS: number;
    if (values.day !== undefined) {
      startS = dayOfDate(values.day) * DAY_S - offsetS;
      durationS = DAY_S;
      if (!samples.some((s) => s.t >= startS && s.t < startS + DAY_S)) {
        throw new InputError(`--day ${values.day}: the traffic has no sample on that day`);
      }
    } else {
      // The whole file, its last sample holding one step (the most common gap between samples).
      const perRole = [...byRole(samples).values()];
      const steps = perRole.flatMap((l) => l.slice(1).map((s, i) => s.t - l[i]!.t));
      const step =
        steps.length > 0
          ? Math.min(MAX_HOLD_S, steps.sort((a, b) => a - b)[Math.floor(steps.length / 2)]!)
          : 60;
      startS = from;
      durationS = Math.ceil(to + step - from);
      if (durationS > 8 * DAY_S)
        throw new InputError('the traffic spans more than 8 days: choose one with --day');
    }

    const notes: string[] = [];
    const roles: RoleModel[] = [];
    const pools: Partial<Record<TargetId, PoolModel>> = {};
    const oracleFloor: Partial<Record<TargetId, number>> = {};
    const present = new Set(samples.map((s) => s.role));
    for (const id of TARGETS) {
      if (!present.has(id)) continue;
      const cap = capacity.roles[id];
      if (!cap) throw new InputError(`the traffic has ${id} but the capacity file does not`);
      const t = targets[id];
      if (!t.hpa) {
        notes.push(`${id}: in the traffic, but the release gives it no HPA: not simulated`);
        continue;
      }
      roles.push({
        role: id,
        rpsPerPod: cap.rpsPerPod,
        cpuAtCapacityPercent: cap.cpuAtCapacityPercent,
        maxCpuPercent: cap.maxCpuPercent,
        podStartS: podStartOverride ?? cap.podStartSeconds ?? DEFAULT_POD_START_S,
        requestMilli: t.requestMilli,
        hpa: t.hpa,
      });
      const pool = Object.keys(suite.pools)
        .sort()
        .find((p) => suite.pools[p] === id);
      pools[id] = { name: pool ?? id, podsPerNode, spareNodes: 0 };
      oracleFloor[id] = min ?? t.hpa.minReplicas;
    }
    if (roles.length === 0) throw new InputError('no role of the traffic can be simulated');

    const policies: PolicyInput[] = [
      { name: 'reactive', schedules: [] },
      { name: 'cron', schedules: replaySchedules(suite.schedules) },
      ...(learned ? [{ name: 'learned', schedules: replaySchedules(learned.schedules) }] : []),
      { name: 'oracle', schedules: [], oracle: true },
    ];
    const results = simulateDay({
      startS,
      durationS,
      offsetS,
      samples,
      roles,
      pools,
      cluster,
      policies,
      oracleHeadroom: headroom,
      oracleFloor,
    });
    const first = localDate(localTime(startS, offsetS).day);
    const hours = durationS / 3600;
    io.out(
      `${first} (${suite.timeZone}), ${hours.toFixed(hours % 1 === 0 ? 0 : 2)} h, roles ${roles.map((r) => r.role).join(', ')}\n` +
        `${formatTable(results)}\n`,
    );
    const l = results.find((r) => r.policy === 'learned');
    if (l && l.vsOraclePercent !== undefined) {
      const perDay = (l.minutesAboveSlo * DAY_S) / durationS;
      const ok = perDay < 1 && l.vsOraclePercent <= 10;
      io.out(
        `goal (under 1 minute above SLO per day, at most +10 % replica-hours vs oracle): ` +
          `${perDay.toFixed(2)} min/day, ${l.vsOraclePercent >= 0 ? '+' : ''}${l.vsOraclePercent.toFixed(1)} % -> ${ok ? 'met' : 'NOT met'}\n`,
      );
    }
    if (values.json !== undefined) {
      writeFileSync(
        values.json,
        `${JSON.stringify({ day: first, timeZone: suite.timeZone, startS, durationS, cluster, roles, results }, null, 1)}\n`,
      );
    }
    for (const n of notes) io.err(`note: ${n}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    io.err(`simulate: ${err.message}\n`);
    return 2;
  }
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
