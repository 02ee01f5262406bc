/**
 * prescaler plan: learns the suite chart's pre-scale schedules from traffic history and writes them into a
 * copy of a values file, printing the unified diff for review. It applies nothing to any cluster.
 *
 *   node services/prescaler/src/cli/plan.ts --history <csv|json> --capacity <capacity.json>
 *     --values <values.yaml> --out <new values.yaml> [--quantile 0.95] [--method linear|nearest-rank]
 *     [--headroom 1.2] [--slot 15|30] [--pod-start-s N] [--node-delay-s N] [--min R] [--role-label role]
 *     [--charts <charts dir>]
 *
 * The diff goes to stdout, notes and warnings to stderr. Exit 0 when the file was written, 2 on input it
 * cannot use (the message says which and why). Algorithm and formats: services/prescaler/README.md.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCapacity } from '../learn/capacity.ts';
import { unifiedDiff } from '../learn/diff.ts';
import { parseHistory } from '../learn/history.ts';
import { DEFAULT_NODE_DELAY_S, learnPlan, parseDayGroups } from '../learn/plan.ts';
import { QUANTILE_METHODS, type QuantileMethod } from '../learn/quantile.ts';
import { InputError } from '../learn/targets.ts';
import { formatOffset, localDate, localTime } from '../learn/time.ts';
import { boundsOf, readSuite, readTargets, writeSchedules } from '../learn/values.ts';
import { type Io, numberFlag, PROCESS_IO, readChartValues, readText, REPO_CHARTS } from './files.ts';

const USAGE = `usage: node services/prescaler/src/cli/plan.ts --history <csv|json> --capacity <capacity.json>
    --values <values.yaml> --out <new values.yaml> [options]
  --history       traffic: CSV "timestamp,role,rps" or a Prometheus query_range JSON export
  --capacity      per-pod capacity per role (services/prescaler/src/learn/capacity.schema.json)
  --values        the suite chart values to start from (prescale.schedules is replaced)
  --out           where to write the new values (may be --values itself); the diff is printed
  --quantile      of each weekday slot's peaks across weeks, 0 < q <= 1 (default 0.95)
  --method        linear | nearest-rank (default linear)
  --headroom      multiplies the rate before dividing by capacity (default 1.2)
  --slot          15 or 30 minutes (default 15)
  --pod-start-s   bound to Ready, seconds (default: the capacity file's podStartSeconds, else 60)
  --node-delay-s  a new node's provisioning, seconds (default ${DEFAULT_NODE_DELAY_S})
  --min           the lowest minReplicas (default: each HPA's minReplicas)
  --day-groups    weekdays sharing one profile: each (default), all, or e.g. mon-fri,sat+sun
  --role-label    the Prometheus label naming the role (default role)
  --charts        the charts folder the HPAs' settings come from (default: this repository's)`;

/** Words into comment lines of at most `width` characters (each with a leading space after the #). */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? ` ${word}` : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

export function main(argv: readonly string[], io: Io = PROCESS_IO): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.filter((a) => a !== '--'),
      options: {
        history: { type: 'string' },
        capacity: { type: 'string' },
        values: { type: 'string' },
        out: { type: 'string' },
        quantile: { type: 'string' },
        method: { type: 'string' },
        headroom: { type: 'string' },
        slot: { type: 'string' },
        'pod-start-s': { type: 'string' },
        'node-delay-s': { type: 'string' },
        min: { type: 'string' },
        'role-label': { type: 'string' },
        'day-groups': { type: 'string' },
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
    for (const flag of ['history', 'capacity', 'values', 'out'] as const) {
      if (values[flag] === undefined) throw new InputError(`--${flag} is required`);
    }
    const method = (values.method ?? 'linear') as QuantileMethod;
    if (!QUANTILE_METHODS.includes(method))
      throw new InputError(`--method ${values.method}: linear or nearest-rank`);
    const slot = numberFlag(values.slot, '--slot', 15, (n) => n === 15 || n === 30, '15 or 30');
    const minText = values.min;
    const options = {
      quantile: numberFlag(values.quantile, '--quantile', 0.95, (n) => n > 0 && n <= 1, '0 < q <= 1'),
      method,
      headroom: numberFlag(
        values.headroom,
        '--headroom',
        1.2,
        (n) => n > 0 && n <= 10,
        'a number > 0 and <= 10',
      ),
      slotMinutes: slot as 15 | 30,
      nodeDelayS: numberFlag(
        values['node-delay-s'],
        '--node-delay-s',
        DEFAULT_NODE_DELAY_S,
        (n) => n >= 0 && n <= 3600,
        'seconds, 0..3600',
      ),
      podStartS:
        values['pod-start-s'] === undefined
          ? undefined
          : numberFlag(
              values['pod-start-s'],
              '--pod-start-s',
              0,
              (n) => n >= 0 && n <= 3600,
              'seconds, 0..3600',
            ),
      dayGroups: parseDayGroups(values['day-groups'] ?? 'each'),
      min:
        minText === undefined
          ? undefined
          : numberFlag(
              minText,
              '--min',
              1,
              (n) => Number.isInteger(n) && n >= 1 && n <= 1000,
              'a whole number 1..1000',
            ),
    };
    const historyPath = values.history!;
    const samples = parseHistory(readText(historyPath, 'history'), values['role-label']);
    const capacity = parseCapacity(readText(values.capacity!, 'capacity'));
    const valuesText = readText(values.values!, 'values');
    const suite = readSuite(valuesText);
    const targets = readTargets(readChartValues(valuesText, values.charts ?? REPO_CHARTS));
    const plan = learnPlan(samples, capacity, {
      ...options,
      timeZone: suite.timeZone,
      bounds: boundsOf(targets),
      pools: suite.pools,
    });

    const notes: string[] = [...plan.warnings];
    const planned = new Set(plan.roles.map((r) => r.role));
    const dropped = [...new Set(suite.schedules.flatMap((s) => Object.keys(s.minReplicas)))].filter(
      (r) => !planned.has(r as never),
    );
    if (dropped.length > 0) {
      notes.push(
        `the current schedules set ${dropped.join(', ')}, the new ones do not: those HPAs keep the minReplicas the last run gave them`,
      );
    }
    let deadline: number | undefined;
    const current = suite.startingDeadlineSeconds ?? 900;
    if (plan.schedules.length > 1 && current >= plan.shortestGapS) {
      deadline = Math.max(10, plan.shortestGapS - 60);
      notes.push(
        `prescale.startingDeadlineSeconds ${current} -> ${deadline}: it must stay below the shortest gap between two schedules (${plan.shortestGapS} s)`,
      );
    }
    if (!suite.prescaleEnabled)
      notes.push('prescale.enabled is false: the schedules do nothing until it is true');

    let from = Infinity;
    let to = -Infinity;
    for (const s of samples) {
      from = Math.min(from, s.t);
      to = Math.max(to, s.t);
    }
    const first = localDate(localTime(from, plan.offsetS).day);
    const last = localDate(localTime(to, plan.offsetS).day);
    const q = `p${+(options.quantile * 100).toFixed(2)}`;
    const comment = wrap(
      `Learned by \`prescaler plan\` (services/prescaler/README.md) from ${basename(historyPath)}, ` +
        `${first}..${last} in ${suite.timeZone} (${formatOffset(plan.offsetS)}): per weekday` +
        `${values['day-groups'] && values['day-groups'] !== 'each' ? ` (groups ${values['day-groups']})` : ''} and ${slot}-minute slot, the ${q} (${method}) ` +
        `of the slot's peak rate across weeks, / capacity per pod (${basename(values.capacity!)}) x ${options.headroom} ` +
        `headroom, at least ${options.min ?? "each HPA's minReplicas"}; raised ahead by the pod start and a ` +
        `${options.nodeDelayS} s node delay (placeholders bring nodes up first), lowered once the slot's rate has ` +
        'fallen. Regenerate rather than edit by hand.',
      100,
    );
    const newText = writeSchedules(valuesText, plan.schedules, {
      comment,
      startingDeadlineSeconds: deadline,
    });
    writeFileSync(values.out!, newText);
    io.out(unifiedDiff(valuesText, newText, values.values!, values.out!));

    const lines = plan.roles.map((r) => {
      const peak = Math.max(...r.quantileRps);
      return (
        `  ${r.role}: peak ${q} ${peak.toFixed(1)} rps / ${r.rpsPerPod} per pod -> up to ${Math.max(...r.required)} replicas; ` +
        `pods raised ${r.leadPodMinutes} min ahead` +
        (r.pool !== undefined
          ? `, nodes ${r.leadTotalMinutes} min (placeholder pool ${r.pool}, up to ${Math.max(...r.placeholders)})`
          : ` (no placeholder pool: nodes and pods ${r.leadTotalMinutes} min ahead)`)
      );
    });
    io.err(
      `plan: ${plan.schedules.length} schedule(s), ${slot}-minute slots, written to ${values.out}\n${lines.join('\n')}\n` +
        notes.map((n) => `note: ${n}\n`).join(''),
    );
    return 0;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    io.err(`plan: ${err.message}\n`);
    return 2;
  }
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
