import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '@eta/testing/kube';
import { runPrescaler } from './support.ts';

/**
 * The pre-scaling command against a real API server (RBAC on), run with a ServiceAccount token that may
 * get and patch only the objects it names, the way the suite chart's CronJob runs it.
 */

const NS = 'prescale-test';

let plane: ControlPlane;
let saKubeconfig: string;

/** The fields these tests read of HPAs and Deployments. */
interface Obj {
  metadata: { resourceVersion: string; generation?: number };
  spec: { minReplicas?: number; replicas?: number };
  status?: { readyReplicas?: number; replicas?: number };
}

async function jsonOf(args: readonly string[]): Promise<Obj> {
  return JSON.parse(await plane.must('kubectl', [...args, '-n', NS, '-o', 'json'])) as Obj;
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + 90_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: last seen ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const deployment = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          { name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } },
        ],
      },
    },
  },
});
const hpa = (name: string, target: string) => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name, namespace: NS },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
    minReplicas: 1,
    maxReplicas: 5,
    metrics: [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ],
  },
});

beforeAll(async () => {
  plane = await startControlPlane({ nodes: [{ name: 'node-a' }] });
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    deployment('web', 1),
    deployment('other', 1),
    deployment('placeholder', 0),
    hpa('web', 'web'),
    hpa('other', 'other'),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'prescaler', namespace: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'prescaler', namespace: NS },
      rules: [
        {
          apiGroups: ['autoscaling'],
          resources: ['horizontalpodautoscalers'],
          resourceNames: ['web'],
          verbs: ['get', 'patch'],
        },
        {
          apiGroups: ['apps'],
          resources: ['deployments/scale'],
          resourceNames: ['placeholder'],
          verbs: ['get', 'patch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'prescaler', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'prescaler' },
      subjects: [{ kind: 'ServiceAccount', name: 'prescaler', namespace: NS }],
    },
  ];
  await plane.must('kubectl', ['create', '-f', '-'], {
    input: objects.map((o) => JSON.stringify(o)).join('\n---\n'),
  });
  const token = (
    await plane.must('kubectl', ['create', 'token', 'prescaler', '-n', NS, '--duration=1h'])
  ).trim();
  saKubeconfig = await plane.kubeconfigFor(token, 'prescaler');
}, 15 * 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('prescaler on a real API server', () => {
  it('raises minReplicas and the placeholder, and the HPA controller scales the Deployment', async () => {
    const r = await runPrescaler(
      ['--namespace', NS, '--hpa', 'web=3', '--deployment', 'placeholder=2'],
      saKubeconfig,
    );
    expect(r.out).toContain('"status":"changed"');
    expect(r.code, r.out).toBe(0);
    expect((await jsonOf(['get', 'hpa', 'web'])).spec.minReplicas).toBe(3);
    expect((await jsonOf(['get', 'deployment', 'placeholder'])).spec.replicas).toBe(2);
    // The HPA controller acts on the new floor even with no metrics server, and kwok makes the pods Ready.
    await until(
      'web scaled to 3 ready pods',
      () => jsonOf(['get', 'deployment', 'web']),
      (d) => d.status?.readyReplicas === 3,
    );
    await until(
      '2 placeholders ready',
      () => jsonOf(['get', 'deployment', 'placeholder']),
      (d) => d.status?.readyReplicas === 2,
    );
  });

  it('is idempotent: a rerun changes nothing and succeeds', async () => {
    // The spec's generation, not the resourceVersion: the HPA controller writes the status (no metrics for
    // kwok pods) on its own schedule, which changes the resourceVersion whatever the prescaler does.
    const hpa = await jsonOf(['get', 'hpa', 'web']);
    const before = { generation: hpa.metadata.generation, spec: hpa.spec };
    const r = await runPrescaler(
      ['--namespace', NS, '--hpa', 'web=3', '--deployment', 'placeholder=2'],
      saKubeconfig,
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toContain('"status":"changed"');
    expect(r.out.match(/"status":"unchanged"/g)).toHaveLength(2);
    const after = await jsonOf(['get', 'hpa', 'web']);
    expect({ generation: after.metadata.generation, spec: after.spec }).toEqual(before);
  });

  it('is refused by RBAC for an HPA it was not granted, and still applies the rest', async () => {
    const r = await runPrescaler(['--namespace', NS, '--hpa', 'other=4', '--hpa', 'web=2'], saKubeconfig);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/"code":403/);
    expect((await jsonOf(['get', 'hpa', 'other'])).spec.minReplicas).toBe(1);
    expect((await jsonOf(['get', 'hpa', 'web'])).spec.minReplicas).toBe(2);
  });

  it('may not touch the Deployment itself, only the placeholder scale it names', async () => {
    const can = async (verb: string, what: string, ...extra: string[]) =>
      (
        await plane.run('kubectl', [
          'auth',
          'can-i',
          verb,
          what,
          ...extra,
          '-n',
          NS,
          `--as=system:serviceaccount:${NS}:prescaler`,
        ])
      ).stdout.trim();
    expect(await can('patch', 'deployments/web')).toBe('no');
    expect(await can('patch', 'deployments/placeholder')).toBe('no');
    expect(await can('patch', 'deployments/placeholder', '--subresource=scale')).toBe('yes');
    expect(await can('patch', 'deployments/web', '--subresource=scale')).toBe('no');
    expect(await can('delete', 'horizontalpodautoscalers.autoscaling/web')).toBe('no');
    expect(await can('patch', 'horizontalpodautoscalers.autoscaling/web')).toBe('yes');
  });

  it('refuses a minReplicas above maxReplicas without changing anything', async () => {
    const r = await runPrescaler(['--namespace', NS, '--hpa', 'web=9'], saKubeconfig);
    expect(r.code).toBe(1);
    expect(r.out).toContain("above the HPA's maxReplicas 5");
    expect((await jsonOf(['get', 'hpa', 'web'])).spec.minReplicas).toBe(2);
  });

  it('lowers after the peak', async () => {
    const r = await runPrescaler(
      ['--namespace', NS, '--hpa', 'web=1', '--deployment', 'placeholder=0'],
      saKubeconfig,
    );
    expect(r.code, r.out).toBe(0);
    expect((await jsonOf(['get', 'hpa', 'web'])).spec.minReplicas).toBe(1);
    await until(
      'placeholders gone',
      () => jsonOf(['get', 'deployment', 'placeholder']),
      (d) => (d.status?.replicas ?? 0) === 0,
    );
  });

  it('answers a bad command line with exit 2 and the usage', async () => {
    const r = await runPrescaler(['--hpa', 'web=zero'], saKubeconfig);
    expect(r.code).toBe(2);
    expect(r.out).toContain('usage: prescaler');
  });
});

describe('prescaler deadlines', () => {
  let silent: Server | undefined;
  const sockets = new Set<Socket>();
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
  });

  it('gives up on an API server that never answers instead of hanging the Job', async () => {
    // Accepts connections and never answers a byte: the per-call deadline must end each attempt.
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    silent = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const cfg = await plane.kubeconfigFor('x', 'silent');
    const { readFile, writeFile } = await import('node:fs/promises');
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace(plane.server, `https://127.0.0.1:${port}`));
    const r = await runPrescaler(['--namespace', NS, '--timeout-ms', '300', '--hpa', 'web=2'], cfg);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/abort|timeout|timed out/i);
  });
});
