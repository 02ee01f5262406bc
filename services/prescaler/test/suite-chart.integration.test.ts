import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type ControlPlane, type NodeSpec, startControlPlane } from '@eta/testing/kube';
import { runPrescaler } from './support.ts';

/**
 * charts/suite installed for real: a kube-apiserver with RBAC, the controller manager, the scheduler and
 * kwok nodes labelled like the node pools (two zones each). kwok runs no containers, so the pre-scaling
 * CronJobs' pods complete without running anything; their command is run from here instead, with the
 * token of the chart's own ServiceAccount, exactly the arguments the CronJob carries.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CHART = join(ROOT, 'charts/suite');
const RELEASE = 'eta';
const NS = 'eta';
const POOL_KEY = 'eta.dev/pool';
const ZONE_KEY = 'topology.kubernetes.io/zone';

/** Slots of one precise pod per precise node: the placeholders fill what the base replicas leave. */
const PRECISE_SLOTS_PER_NODE = 3;
const BASE = { 'vendor-bff-precise': 2, 'vendor-bff-rough': 2, geo: 2, 'ml-proxy': 2 };
const LUNCH = { 'vendor-bff-precise': 6, 'vendor-bff-rough': 3, geo: 3, 'ml-proxy': 3 };
const PREWARM_PLACEHOLDERS = 2 * PRECISE_SLOTS_PER_NODE - BASE['vendor-bff-precise'];

const VALUES = {
  prescale: {
    enabled: true,
    schedules: [
      // Nodes first: the placeholders take the free room half an hour before the real pods need it.
      {
        name: 'lunch-prewarm',
        schedule: '10 10 * * *',
        minReplicas: BASE,
        placeholders: { precise: PREWARM_PLACEHOLDERS, rough: 0 },
      },
      {
        name: 'lunch-up',
        schedule: '40 10 * * *',
        minReplicas: LUNCH,
        placeholders: { precise: PREWARM_PLACEHOLDERS, rough: 0 },
      },
      {
        name: 'lunch-down',
        schedule: '30 14 * * *',
        minReplicas: BASE,
        placeholders: { precise: 0, rough: 0 },
      },
    ],
  },
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string }[];
  };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests of many kinds
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let plane: ControlPlane;
let valuesFile: string;
let rendered: K8sObject[];

async function getJson<T = K8sObject>(args: readonly string[]): Promise<T> {
  return JSON.parse(await plane.must('kubectl', [...args, '-o', 'json'])) as T;
}

/** What a failed wait shows: pods as name, phase, node and the scheduler's last word; objects as status. */
function summary(v: unknown): string {
  const list = Array.isArray(v) ? (v as K8sObject[]) : [v as K8sObject];
  return JSON.stringify(
    list.map((o) =>
      o?.kind === 'Pod'
        ? [
            o.metadata.name,
            o.status?.phase,
            o.spec?.nodeName,
            o.status?.conditions?.find((c: { type: string }) => c.type === 'PodScheduled')?.message,
          ]
        : [o?.metadata?.name, o?.spec?.replicas ?? o?.spec?.minReplicas, o?.status],
    ),
  ).slice(0, 3000);
}

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > end) throw new Error(`${what}: not reached; last seen ${summary(last)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function cpuMillis(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
}

function memMi(q: string): number {
  const units: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024 };
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`memory quantity ${q}`);
  return Number(m[1]) * (m[2] ? units[m[2]]! : 1 / (1024 * 1024));
}

function byKindName(kind: string, name: string): K8sObject {
  const found = rendered.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`the chart renders no ${kind} ${name}`);
  return found;
}

/**
 * The live objects of a release's manifest as kubectl names them; kubectl fails if any is missing. Objects
 * without a namespace are in the release's, the others (a BFF role's own namespace) in theirs.
 */
async function liveObjects(release: string, ns: string): Promise<string[]> {
  const manifest = await plane.must('helm', ['get', 'manifest', release, '-n', ns]);
  const groups = new Map<string, string[]>();
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJS() as K8sObject | null;
    if (!o) continue;
    const at = o.metadata.namespace ?? ns;
    groups.set(at, [...(groups.get(at) ?? []), JSON.stringify(o)]);
  }
  const names: string[] = [];
  for (const [at, docs] of groups) {
    const r = await plane.run('kubectl', ['get', '-n', at, '-f', '-', '-o', 'name'], {
      input: docs.join('\n---\n'),
    });
    expect(r.code, r.stderr).toBe(0);
    names.push(...r.stdout.trim().split('\n'));
  }
  return names;
}

/** A Deployment's label selector, as kubectl -l takes it. */
function selectorOf(d: K8sObject): string {
  return Object.entries(d.spec.selector.matchLabels as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Runs a prescale CronJob the way its pod would: its arguments, its ServiceAccount's token. */
async function runSchedule(name: string): Promise<{ code: number; out: string }> {
  const cron = await getJson(['get', 'cronjob', `${RELEASE}-prescale-${name}`, '-n', NS]);
  const pod = cron.spec.jobTemplate.spec.template.spec;
  const container = pod.containers[0];
  const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])];
  // The image runs `node src/main.ts <args>`; here the same source runs from the checkout.
  const mainAt = argv.findIndex((a) => a.endsWith('src/main.ts'));
  expect(mainAt, `the CronJob runs the prescaler: ${argv.join(' ')}`).toBeGreaterThanOrEqual(0);
  const token = (
    await plane.must('kubectl', ['create', 'token', pod.serviceAccountName, '-n', NS, '--duration=10m'])
  ).trim();
  return runPrescaler(argv.slice(mainAt + 1), await plane.kubeconfigFor(token, `sa-${name}`));
}

async function pods(selector: string): Promise<K8sObject[]> {
  return (await getJson<{ items: K8sObject[] }>(['get', 'pods', '-n', NS, '-l', selector])).items;
}

/** Every pod bound to a precise node, with what the scheduler weighs: phase, priority, requests, deletion. */
async function onPreciseNodes(): Promise<string> {
  const all = await getJson<{ items: K8sObject[] }>(['get', 'pods', '-A']);
  return JSON.stringify(
    all.items
      .filter((p) => String(p.spec?.nodeName ?? p.status?.nominatedNodeName ?? '').startsWith('precise-'))
      .map((p) => [
        p.metadata.name,
        p.spec?.nodeName ?? `nominated ${p.status?.nominatedNodeName}`,
        p.status?.phase,
        p.spec?.priority,
        JSON.stringify(p.spec?.containers?.[0]?.resources?.requests ?? {}),
        (p.metadata as { deletionTimestamp?: string }).deletionTimestamp ? 'deleting' : '',
      ]),
  );
}

const running = (p: K8sObject) =>
  p.status?.phase === 'Running' && !p.metadata.ownerReferences?.some((o) => o.kind === 'Job');

beforeAll(async () => {
  plane = await startControlPlane();
  valuesFile = join(plane.dir, 'test-values.json');
  await writeFile(valuesFile, JSON.stringify(VALUES));
  const manifest = await plane.must('helm', [
    'template',
    RELEASE,
    CHART,
    '-n',
    NS,
    '-f',
    valuesFile,
    '--kube-version',
    '1.36.3',
  ]);
  rendered = parseAllDocuments(manifest)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);

  // Precise nodes hold exactly PRECISE_SLOTS_PER_NODE precise pods each, so the lunch pods can only land
  // where placeholders stand; the other pools get roomy nodes. Two zones per pool for the spread.
  const precise = byKindName('Deployment', `${RELEASE}-vendor-bff-precise`);
  const req = precise.spec.template.spec.containers[0].resources.requests as { cpu: string; memory: string };
  const preciseRoom = {
    cpu: `${cpuMillis(req.cpu) * PRECISE_SLOTS_PER_NODE + 50}m`,
    memory: `${Math.ceil(memMi(req.memory) * PRECISE_SLOTS_PER_NODE) + 64}Mi`,
    pods: '110',
  };
  const nodes: NodeSpec[] = [];
  for (const zone of ['a', 'b']) {
    nodes.push({
      name: `precise-${zone}`,
      labels: { [POOL_KEY]: 'precise', [ZONE_KEY]: `zone-${zone}` },
      allocatable: preciseRoom,
    });
    for (const pool of ['rough', 'admin', 'geo', 'ml']) {
      nodes.push({
        name: `${pool}-${zone}`,
        labels: { [POOL_KEY]: pool, [ZONE_KEY]: `zone-${zone}` },
        allocatable: { cpu: '32', memory: '128Gi', pods: '110' },
      });
    }
  }
  await plane.addNodes(nodes);
  await plane.must('helm', [
    'install',
    RELEASE,
    CHART,
    '-n',
    NS,
    '--create-namespace',
    '-f',
    valuesFile,
    '--wait',
    '--timeout',
    '5m',
  ]);
  // A Deployment whose replicas an HPA owns has no spec.replicas, so it starts at 1 and `helm --wait` is
  // satisfied by that one pod; the HPA controller raises it to minReplicas moments later. Every test below
  // starts from the settled state, as an SRE watching the rollout would: each such Deployment at its floor.
  for (const hpa of rendered.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = hpa.spec.scaleTargetRef.name as string;
    const ns = hpa.metadata.namespace ?? NS;
    await until(
      `${target} ready at its HPA floor`,
      () => getJson(['get', 'deployment', target, '-n', ns]),
      (d) =>
        d.spec.replicas >= (hpa.spec.minReplicas ?? 1) &&
        d.status?.readyReplicas === d.spec.replicas &&
        d.status?.updatedReplicas === d.spec.replicas,
      180_000,
    );
  }
}, 20 * 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('charts/suite on a real API server', () => {
  it('creates every object it renders', async () => {
    const names = await liveObjects(RELEASE, NS);
    expect(names.length).toBe(rendered.length);
    const kinds = new Set(rendered.map((o) => o.kind));
    for (const kind of [
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'CronJob',
      'NetworkPolicy',
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'PriorityClass',
    ]) {
      expect(kinds, `renders a ${kind}`).toContain(kind);
    }
  });

  it('schedules every pod on its pool and makes it Ready', async () => {
    for (const d of rendered.filter((o) => o.kind === 'Deployment')) {
      const live = await getJson(['get', 'deployment', d.metadata.name, '-n', d.metadata.namespace ?? NS]);
      const want = live.spec.replicas as number;
      expect(live.status?.readyReplicas ?? 0, `${d.metadata.name} ready`).toBe(want);
      const pool = d.spec.template.spec.nodeSelector?.[POOL_KEY] as string | undefined;
      if (want > 0) expect(pool, `${d.metadata.name} has a pool`).toBeTruthy();
      for (const p of await pods(selectorOf(d))) {
        expect(p.spec.nodeName, `${p.metadata.name} placed`).toMatch(new RegExp(`^${pool}-`));
      }
    }
  });

  it('gives every Service ready endpoints', async () => {
    for (const s of rendered.filter((o) => o.kind === 'Service')) {
      const ns = s.metadata.namespace ?? NS;
      const slices = await until(
        `endpoints of ${s.metadata.name}`,
        () =>
          getJson<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>([
            'get',
            'endpointslices',
            '-n',
            ns,
            '-l',
            `kubernetes.io/service-name=${s.metadata.name}`,
          ]),
        (l) => l.items.some((sl) => sl.endpoints?.some((e) => e.conditions?.ready === true)),
      );
      expect(slices.items.length).toBeGreaterThan(0);
    }
  });

  it('runs the CronJobs in Seoul time and their Jobs complete', async () => {
    const crons = rendered.filter((o) => o.kind === 'CronJob');
    expect(crons.map((c) => c.metadata.name).sort()).toEqual(
      ['lunch-down', 'lunch-prewarm', 'lunch-up'].map((n) => `${RELEASE}-prescale-${n}`),
    );
    for (const c of crons) {
      const live = await getJson(['get', 'cronjob', c.metadata.name, '-n', NS]);
      expect(live.spec.timeZone).toBe('Asia/Seoul');
    }
    await plane.must('kubectl', [
      'create',
      'job',
      'prewarm-now',
      `--from=cronjob/${RELEASE}-prescale-lunch-prewarm`,
      '-n',
      NS,
    ]);
    await plane.must('kubectl', [
      'wait',
      '--for=condition=Complete',
      'job/prewarm-now',
      '-n',
      NS,
      '--timeout=120s',
    ]);
  });

  it(
    'pre-warms, raises minReplicas before lunch, and the new pods take the pre-warmed room',
    async () => {
      const placeholderSel = selectorOf(byKindName('Deployment', `${RELEASE}-placeholder-precise`));
      const preciseSel = selectorOf(byKindName('Deployment', `${RELEASE}-vendor-bff-precise`));

      const prewarm = await runSchedule('lunch-prewarm');
      expect(prewarm.code, prewarm.out).toBe(0);
      const held = await until(
        'placeholders hold the free precise room',
        () => pods(placeholderSel),
        (ps) => ps.filter(running).length === PREWARM_PLACEHOLDERS,
      );
      const warmNodes = new Set(held.filter(running).map((p) => p.spec.nodeName as string));
      expect([...warmNodes].every((n) => n.startsWith('precise-'))).toBe(true);

      const lunch = await runSchedule('lunch-up');
      expect(lunch.code, lunch.out).toBe(0);
      for (const [target, min] of Object.entries(LUNCH)) {
        const hpa = await getJson(['get', 'hpa', `${RELEASE}-${target}`, '-n', NS]);
        expect(hpa.spec.minReplicas, target).toBe(min);
      }
      // The HPA controller raises each Deployment to the new floor; the scheduler preempts placeholders.
      // Four lunch pods preempting at once can leave one of them judged against a moment when its zone's
      // node looked full (another lunch pod nominated there, a victim not yet gone); the scheduler then
      // parks it among the unschedulable pods until an event frees room or, at the latest, its 5-minute
      // retry (--pod-max-in-unschedulable-pods-duration). Seen once in CI; so wait past that retry, and say
      // what stood on the precise nodes when the first two minutes were not enough.
      let reported = false;
      const started = Date.now();
      const precise = await until(
        'precise at its lunch floor',
        async () => {
          const ps = await pods(preciseSel);
          if (
            !reported &&
            Date.now() - started > 120_000 &&
            ps.filter(running).length < LUNCH['vendor-bff-precise']
          ) {
            reported = true;
            console.warn(`precise nodes after 2 min: ${await onPreciseNodes()}`);
          }
          return ps;
        },
        (ps) => ps.filter(running).length === LUNCH['vendor-bff-precise'],
        330_000,
      );
      const preciseNodes = new Set(precise.filter(running).map((p) => p.spec.nodeName as string));
      for (const n of warmNodes) expect(preciseNodes, `a lunch pod on pre-warmed ${n}`).toContain(n);
      const after = await until(
        'placeholders preempted',
        () => pods(placeholderSel),
        (ps) => ps.filter(running).length === 0,
      );
      expect(after.length).toBeGreaterThanOrEqual(0);
      for (const target of ['vendor-bff-rough', 'geo', 'ml-proxy'] as const) {
        await until(
          `${target} at its lunch floor`,
          () => getJson(['get', 'deployment', `${RELEASE}-${target}`, '-n', NS]),
          (d) => d.status?.readyReplicas === LUNCH[target],
        );
      }
    },
    10 * 60_000,
  );

  it('gives the prescale ServiceAccount nothing beyond the objects it names', async () => {
    const cron = await getJson(['get', 'cronjob', `${RELEASE}-prescale-lunch-up`, '-n', NS]);
    const sa = cron.spec.jobTemplate.spec.template.spec.serviceAccountName as string;
    const can = async (...args: string[]) =>
      (
        await plane.run('kubectl', [
          'auth',
          'can-i',
          ...args,
          '-n',
          NS,
          `--as=system:serviceaccount:${NS}:${sa}`,
        ])
      ).stdout.trim();
    expect(await can('patch', `horizontalpodautoscalers.autoscaling/${RELEASE}-geo`)).toBe('yes');
    expect(await can('delete', `horizontalpodautoscalers.autoscaling/${RELEASE}-geo`)).toBe('no');
    expect(await can('patch', `deployments/${RELEASE}-geo`)).toBe('no');
    expect(await can('patch', `deployments/${RELEASE}-geo`, '--subresource=scale')).toBe('no');
    expect(await can('list', 'secrets')).toBe('no');
    expect(await can('create', 'horizontalpodautoscalers.autoscaling')).toBe('no');

    // And with its real token: a scale of a Deployment that is not a placeholder is refused (403).
    const token = (await plane.must('kubectl', ['create', 'token', sa, '-n', NS, '--duration=10m'])).trim();
    const r = await runPrescaler(
      ['--namespace', NS, '--deployment', `${RELEASE}-geo=5`],
      await plane.kubeconfigFor(token, 'sa-refused'),
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/"code":403/);
  });

  it('lowers after lunch', async () => {
    const down = await runSchedule('lunch-down');
    expect(down.code, down.out).toBe(0);
    for (const [target, min] of Object.entries(BASE)) {
      expect((await getJson(['get', 'hpa', `${RELEASE}-${target}`, '-n', NS])).spec.minReplicas, target).toBe(
        min,
      );
    }
    const placeholder = await getJson(['get', 'deployment', `${RELEASE}-placeholder-precise`, '-n', NS]);
    expect(placeholder.spec.replicas).toBe(0);
  });

  it('uninstalls cleanly', async () => {
    await plane.must('helm', ['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '3m']);
    const left = await plane.must('kubectl', [
      'get',
      'deployments,services,hpa,pdb,cronjobs,networkpolicies,serviceaccounts,roles,rolebindings,configmaps',
      '-n',
      NS,
      '-l',
      `app.kubernetes.io/instance=${RELEASE}`,
      '-o',
      'name',
    ]);
    expect(left.trim()).toBe('');
    const classes = await plane.must('kubectl', ['get', 'priorityclasses', '-o', 'name']);
    expect(classes).not.toContain(`${RELEASE}-placeholder`);
  });
});

describe('the production and KEDA scenarios on the same API server', () => {
  it(
    'are accepted whole, CRD kinds included',
    async () => {
      // The CRDs the scenarios render objects of (ServiceMonitor, ScaledObject), as their operators install them.
      const crds = join(plane.tools, 'crds');
      for (const f of ['keda.sh_scaledobjects.yaml', 'monitoring.coreos.com_servicemonitors.yaml']) {
        await plane.must('kubectl', ['apply', '--server-side', '-f', join(crds, f)]);
      }
      await plane.must('kubectl', [
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        'crd/scaledobjects.keda.sh',
        'crd/servicemonitors.monitoring.coreos.com',
      ]);
      // production-values puts the admin role in its own namespace, which must exist first (Helm does not create it).
      await plane.must('kubectl', ['create', 'namespace', 'eta-admin']);
      for (const [release, ns, file] of [
        ['eta', 'eta', 'production-values.yaml'],
        ['peak', 'keda-mode', 'keda-values.yaml'],
      ] as const) {
        await plane.must('helm', [
          'install',
          release,
          CHART,
          '-n',
          ns,
          '--create-namespace',
          '-f',
          join(CHART, 'ci', file),
        ]);
        const kinds = (await liveObjects(release, ns)).map((l) => l.split('/')[0]);
        if (file === 'keda-values.yaml') {
          expect(kinds).toContain('scaledobject.keda.sh');
          expect(kinds).not.toContain('horizontalpodautoscaler.autoscaling');
          expect(kinds).not.toContain('cronjob.batch');
        } else {
          expect(kinds).toContain('servicemonitor.monitoring.coreos.com');
        }
        await plane.must('helm', ['uninstall', release, '-n', ns, '--wait', '--timeout', '3m']);
      }
    },
    6 * 60_000,
  );
});
