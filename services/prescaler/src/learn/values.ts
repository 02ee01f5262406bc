/**
 * The Helm values the plan reads and writes: the suite chart's values file (timeZone, prescale,
 * placeholders) and, for each target's HPA (minReplicas, maxReplicas, target, behavior, CPU request), the
 * service charts' own values with the suite file's overrides laid over them, as Helm and the charts merge
 * them (maps key by key, lists and scalars replaced, null removes; a BFF role is roles.default with
 * roles.<role> over it).
 */
import { isMap, isSeq, parseDocument, Scalar, type Document } from 'yaml';
import { type Cron, parseCron } from './cron.ts';
import {
  type BehaviorInput,
  defaultBehavior,
  type HpaSpec,
  type ScalingPolicy,
  type ScalingRules,
} from './hpa.ts';
import type { ChartSchedule, RoleBounds } from './plan.ts';
import { InputError, isTarget, type TargetId, TARGETS } from './targets.ts';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's coalescing of `over` onto `base`. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = mergeValues(base[k], v);
  }
  return out;
}

function load(text: string, what: string): Obj {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new InputError(`${what}: not YAML: ${doc.errors[0]!.message}`);
  const v: unknown = doc.toJS();
  if (v === null || v === undefined) return {};
  if (!isObj(v)) throw new InputError(`${what}: expected a mapping at the top`);
  return v;
}

/** The texts of the four values files. */
export interface ChartValues {
  readonly suite: string;
  readonly vendorBff: string;
  readonly geo: string;
  readonly mlProxy: string;
}

export interface TargetSettings {
  readonly id: TargetId;
  /** Deployed, with an HPA (not in KEDA mode). */
  readonly autoscaled: boolean;
  readonly hpa?: HpaSpec;
  readonly requestMilli: number;
}

/** "1" -> 1000, "500m" -> 500, 1.5 -> 1500. */
export function cpuMilli(v: unknown): number | undefined {
  if (typeof v === 'number' && v > 0) return v * 1000;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(v.trim());
  if (!m) return undefined;
  return m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
}

function rules(v: unknown, what: string): Partial<ScalingRules> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new InputError(`${what}: expected a mapping`);
  const out: { -readonly [K in keyof ScalingRules]?: ScalingRules[K] } = {};
  if (v.stabilizationWindowSeconds !== undefined) {
    if (typeof v.stabilizationWindowSeconds !== 'number')
      throw new InputError(`${what}.stabilizationWindowSeconds`);
    out.stabilizationWindowSeconds = v.stabilizationWindowSeconds;
  }
  if (v.selectPolicy !== undefined) {
    if (v.selectPolicy !== 'Max' && v.selectPolicy !== 'Min' && v.selectPolicy !== 'Disabled') {
      throw new InputError(`${what}.selectPolicy: Max, Min or Disabled`);
    }
    out.selectPolicy = v.selectPolicy;
  }
  if (v.policies !== undefined) {
    if (!Array.isArray(v.policies)) throw new InputError(`${what}.policies: expected a list`);
    out.policies = v.policies.map((p: unknown, i: number): ScalingPolicy => {
      if (
        !isObj(p) ||
        (p.type !== 'Pods' && p.type !== 'Percent') ||
        typeof p.value !== 'number' ||
        typeof p.periodSeconds !== 'number'
      ) {
        throw new InputError(`${what}.policies[${i}]: expected {type: Pods|Percent, value, periodSeconds}`);
      }
      return { type: p.type, value: p.value, periodSeconds: p.periodSeconds };
    });
  }
  return out;
}

/** Every target's HPA as this release would render it. */
export function readTargets(texts: ChartValues): Record<TargetId, TargetSettings> {
  const suite = load(texts.suite, 'suite values');
  const keda = isObj(suite.global) && isObj(suite.global.keda) && suite.global.keda.enabled === true;
  const chart = (name: string, text: string): Obj | undefined => {
    const over = suite[name];
    const merged = mergeValues(load(text, `${name} values`), isObj(over) ? over : {}) as Obj;
    return merged.enabled === false ? undefined : merged;
  };
  const settingsOf: Partial<Record<TargetId, Obj | undefined>> = {};
  const bff = chart('vendor-bff', texts.vendorBff);
  for (const role of ['precise', 'rough', 'admin']) {
    const roles = isObj(bff?.roles) ? bff.roles : {};
    const s = bff ? (mergeValues(roles.default ?? {}, roles[role] ?? {}) as Obj) : undefined;
    settingsOf[`vendor-bff-${role}` as TargetId] = s && s.enabled !== false ? s : undefined;
  }
  settingsOf.geo = chart('geo', texts.geo);
  settingsOf['ml-proxy'] = chart('ml-proxy', texts.mlProxy);
  const out = {} as Record<TargetId, TargetSettings>;
  for (const id of TARGETS) {
    const s = settingsOf[id];
    const a = isObj(s?.autoscaling) ? s.autoscaling : undefined;
    const requests = isObj(s?.resources) && isObj(s.resources.requests) ? s.resources.requests : {};
    const requestMilli = cpuMilli(requests.cpu) ?? 1000;
    if (!s || !a || a.enabled === false || keda) {
      out[id] = { id, autoscaled: false, requestMilli };
      continue;
    }
    const num = (k: string) => {
      const v = a[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new InputError(`${id}: autoscaling.${k} is ${JSON.stringify(v)}, expected a whole number >= 1`);
      }
      return v;
    };
    const behavior: BehaviorInput | null =
      a.behavior === undefined || a.behavior === null
        ? null
        : {
            scaleUp: rules(isObj(a.behavior) ? a.behavior.scaleUp : undefined, `${id}: behavior.scaleUp`),
            scaleDown: rules(
              isObj(a.behavior) ? a.behavior.scaleDown : undefined,
              `${id}: behavior.scaleDown`,
            ),
          };
    out[id] = {
      id,
      autoscaled: true,
      requestMilli,
      hpa: {
        minReplicas: num('minReplicas'),
        maxReplicas: num('maxReplicas'),
        targetUtilization: num('targetCPUUtilizationPercentage'),
        behavior: behavior ? defaultBehavior(behavior) : null,
      },
    };
  }
  return out;
}

export function boundsOf(targets: Record<TargetId, TargetSettings>): Partial<Record<TargetId, RoleBounds>> {
  const out: Partial<Record<TargetId, RoleBounds>> = {};
  for (const t of Object.values(targets)) {
    if (t.hpa) out[t.id] = { minReplicas: t.hpa.minReplicas, maxReplicas: t.hpa.maxReplicas };
  }
  return out;
}

export interface SuiteSettings {
  readonly timeZone: string;
  readonly prescaleEnabled: boolean;
  readonly startingDeadlineSeconds: number | undefined;
  readonly schedules: readonly ChartSchedule[];
  /** Placeholder pools and their workloads; empty when placeholders are disabled. */
  readonly pools: Readonly<Record<string, TargetId>>;
}

export function readSuite(text: string): SuiteSettings {
  const v = load(text, 'suite values');
  const timeZone = typeof v.timeZone === 'string' && v.timeZone !== '' ? v.timeZone : 'Asia/Seoul';
  const p = isObj(v.prescale) ? v.prescale : {};
  const schedules: ChartSchedule[] = [];
  if (p.schedules !== undefined) {
    if (!Array.isArray(p.schedules)) throw new InputError('prescale.schedules: expected a list');
    p.schedules.forEach((s: unknown, i: number) => {
      if (!isObj(s) || typeof s.name !== 'string' || typeof s.schedule !== 'string') {
        throw new InputError(`prescale.schedules[${i}]: expected name and schedule`);
      }
      const minReplicas: Partial<Record<TargetId, number>> = {};
      for (const [k, n] of Object.entries(isObj(s.minReplicas) ? s.minReplicas : {})) {
        if (!isTarget(k) || typeof n !== 'number')
          throw new InputError(`prescale.schedules[${s.name}].minReplicas.${k}`);
        minReplicas[k] = n;
      }
      const placeholders: Record<string, number> = {};
      for (const [k, n] of Object.entries(isObj(s.placeholders) ? s.placeholders : {})) {
        if (typeof n !== 'number') throw new InputError(`prescale.schedules[${s.name}].placeholders.${k}`);
        placeholders[k] = n;
      }
      schedules.push({ name: s.name, schedule: s.schedule, minReplicas, placeholders });
    });
  }
  const ph = isObj(v.placeholders) ? v.placeholders : {};
  const pools: Record<string, TargetId> = {};
  if (ph.enabled !== false && isObj(ph.pools)) {
    for (const [name, pool] of Object.entries(ph.pools)) {
      if (isObj(pool) && typeof pool.workload === 'string' && isTarget(pool.workload))
        pools[name] = pool.workload;
    }
  }
  return {
    timeZone,
    prescaleEnabled: p.enabled === true,
    startingDeadlineSeconds:
      typeof p.startingDeadlineSeconds === 'number' ? p.startingDeadlineSeconds : undefined,
    schedules,
    pools,
  };
}

/** A chart schedule ready to replay: its cron, and values by role and by pool. */
export interface ReplaySchedule {
  readonly name: string;
  readonly cron: Cron;
  readonly minReplicas: Partial<Record<TargetId, number>>;
  readonly placeholders: Readonly<Record<string, number>>;
}

export function replaySchedules(schedules: readonly ChartSchedule[]): ReplaySchedule[] {
  return schedules.map((s) => ({
    name: s.name,
    cron: parseCron(s.schedule),
    minReplicas: s.minReplicas,
    placeholders: s.placeholders ?? {},
  }));
}

export interface WriteOptions {
  /** Replaces the comment above `schedules:`. */
  readonly comment: string;
  /** Set when the current startingDeadlineSeconds is not below the shortest gap between two schedules. */
  readonly startingDeadlineSeconds?: number | undefined;
}

/** The values text with prescale.schedules replaced; every other line, comment included, as it was. */
export function writeSchedules(text: string, schedules: readonly ChartSchedule[], o: WriteOptions): string {
  const doc: Document = parseDocument(text);
  if (doc.errors.length > 0) throw new InputError(`values: not YAML: ${doc.errors[0]!.message}`);
  const node = doc.createNode(schedules.map((s) => ({ ...s })));
  if (isSeq(node)) {
    for (const item of node.items) {
      if (!isMap(item)) continue;
      const sched = item.get('schedule', true);
      // Quoted like the chart's own: a field starting with * would otherwise read as an alias.
      if (sched instanceof Scalar) sched.type = Scalar.QUOTE_DOUBLE;
    }
  }
  if (!doc.hasIn(['prescale'])) doc.set('prescale', doc.createNode({}));
  doc.setIn(['prescale', 'schedules'], node);
  const prescale = doc.getIn(['prescale'], true);
  if (isMap(prescale)) {
    const pair = prescale.items.find((it) => it.key instanceof Scalar && it.key.value === 'schedules');
    if (pair?.key instanceof Scalar) pair.key.commentBefore = o.comment;
  }
  if (o.startingDeadlineSeconds !== undefined)
    doc.setIn(['prescale', 'startingDeadlineSeconds'], o.startingDeadlineSeconds);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
