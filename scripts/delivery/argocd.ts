/**
 * What kubeconform cannot see in deploy/argocd: that each ApplicationSet's sources exist in this repository
 * (chart and plain-manifest paths, `$values/...` value files, the `ref` they name), that its project is
 * deploy/argocd/project.yaml's, and that Argo CD would accept what the environment renders: every namespace
 * a destination of the project, every kind in the project's cluster or namespaced whitelist (Argo CD
 * refuses to sync anything else), and the sync waves and hooks that order a sync (the namespaces before
 * the chart, the migration Job as a PreSync hook).
 *
 *   node scripts/delivery/argocd.ts --helm <helm> [--dir deploy/argocd] [--kube-version 1.36.3]
 *
 * Renders each environment as Argo CD does (`helm template <releaseName> <path> --namespace <destination>
 * -f <values file>`) and exits 1 on any problem.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (isObj(node) ? node[key] : undefined), o);

export function readObjects(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter(isObj);
}

interface Kind {
  readonly group: string;
  readonly kind: string;
}
const groupOf = (apiVersion: string): string =>
  apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
const CLUSTER_KINDS = new Set([
  'Namespace',
  'PriorityClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
]);

/** Problems with rendered objects against an AppProject (namespaces and kinds it permits). */
export function projectProblems(project: Obj, objects: readonly Obj[], defaultNamespace: string): string[] {
  const problems: string[] = [];
  const destinations = ((get(project, 'spec', 'destinations') ?? []) as Obj[]).map((d) =>
    String(d['namespace']),
  );
  const list = (key: string) =>
    ((get(project, 'spec', key) ?? []) as Obj[]).map((k) => ({
      group: String(k['group'] ?? ''),
      kind: String(k['kind']),
    }));
  const allowed = (kinds: Kind[], k: Kind) =>
    kinds.some((a) => (a.group === '*' || a.group === k.group) && (a.kind === '*' || a.kind === k.kind));
  const cluster = list('clusterResourceWhitelist');
  const namespaced = list('namespaceResourceWhitelist');
  for (const o of objects) {
    const k = { group: groupOf(String(o['apiVersion'])), kind: String(o['kind']) };
    const name = `${k.kind} ${String(get(o, 'metadata', 'name'))}`;
    if (CLUSTER_KINDS.has(k.kind)) {
      if (!allowed(cluster, k))
        problems.push(
          `${name}: cluster-scoped ${k.group || 'core'}/${k.kind} is not in the project's clusterResourceWhitelist`,
        );
      continue;
    }
    if (!allowed(namespaced, k))
      problems.push(
        `${name}: ${k.group || 'core'}/${k.kind} is not in the project's namespaceResourceWhitelist`,
      );
    const ns = String(get(o, 'metadata', 'namespace') ?? defaultNamespace);
    if (!destinations.includes(ns) && !destinations.includes('*'))
      problems.push(`${name}: namespace ${ns} is not a destination of the project`);
  }
  return problems;
}

/**
 * The order a sync runs in. Argo CD runs phases before waves: PreSync hooks, then the Sync phase by wave.
 * So the namespaces of plain sources come in a wave before the chart's, a migration Job is a PreSync hook,
 * and a hook lives in the destination namespace that Argo CD creates before any hook (CreateNamespace=true),
 * never in one the Sync phase creates later.
 */
export function orderingProblems(
  namespaces: readonly Obj[],
  chart: readonly Obj[],
  destination: { namespace: string; createNamespace: boolean },
): string[] {
  const problems: string[] = [];
  for (const o of chart) {
    const hook = get(o, 'metadata', 'annotations', 'argocd.argoproj.io/hook');
    if (hook !== 'PreSync') continue;
    const ns = String(get(o, 'metadata', 'namespace') ?? destination.namespace);
    const where = `${String(o['kind'])} ${String(get(o, 'metadata', 'name'))}`;
    if (ns !== destination.namespace)
      problems.push(
        `${where}: a PreSync hook in namespace ${ns}, which a sync creates only after its hooks (phases before waves)`,
      );
    else if (!destination.createNamespace)
      problems.push(
        `${where}: a PreSync hook needs its namespace before the sync: set syncOptions CreateNamespace=true`,
      );
  }
  const wave = (o: Obj) => Number(get(o, 'metadata', 'annotations', 'argocd.argoproj.io/sync-wave') ?? 0);
  const chartWaves = chart
    .filter((o) => get(o, 'metadata', 'annotations', 'argocd.argoproj.io/hook') === undefined)
    .map(wave);
  const first = Math.min(0, ...chartWaves);
  for (const ns of namespaces)
    if (ns['kind'] === 'Namespace' && !(wave(ns) < first))
      problems.push(
        `Namespace ${String(get(ns, 'metadata', 'name'))}: sync wave ${wave(ns)} is not before the chart's first wave (${first})`,
      );
  for (const o of chart) {
    const isMigration = o['kind'] === 'Job' && /migrat/.test(String(get(o, 'metadata', 'name')));
    if (isMigration && get(o, 'metadata', 'annotations', 'argocd.argoproj.io/hook') !== 'PreSync')
      problems.push(
        `Job ${String(get(o, 'metadata', 'name'))}: a migration must be an Argo CD PreSync hook, before the pods roll`,
      );
  }
  return problems;
}

function render(
  helm: string,
  root: string,
  release: string,
  chartPath: string,
  namespace: string,
  valueFiles: string[],
  kubeVersion: string,
): Obj[] {
  const out = execFileSync(
    helm,
    [
      'template',
      release,
      chartPath,
      '--namespace',
      namespace,
      '--kube-version',
      kubeVersion,
      ...valueFiles.flatMap((f) => ['-f', f]),
    ],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
  );
  return parseAllDocuments(out)
    .map((d) => d.toJS() as unknown)
    .filter(isObj);
}

export function checkArgo(opts: { dir: string; helm: string; root: string; kubeVersion: string }): boolean {
  const files = readdirSync(opts.dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(opts.dir, f));
  const objects = files.flatMap(readObjects);
  const projects = new Map(
    objects.filter((o) => o['kind'] === 'AppProject').map((p) => [String(get(p, 'metadata', 'name')), p]),
  );
  let ok = true;
  const sets = objects.filter((o) => o['kind'] === 'ApplicationSet');
  if (sets.length === 0) {
    console.log(`FAIL  no ApplicationSet in ${opts.dir}`);
    return false;
  }
  for (const set of sets) {
    const name = String(get(set, 'metadata', 'name'));
    const problems: string[] = [];
    const spec = get(set, 'spec', 'template', 'spec') as Obj;
    const project = projects.get(String(spec['project']));
    if (!project) problems.push(`project ${String(spec['project'])} is not defined in ${opts.dir}`);
    const repos = new Set(((get(project, 'spec', 'sourceRepos') ?? []) as string[]).map(String));
    const sources = (spec['sources'] ?? (spec['source'] ? [spec['source']] : [])) as Obj[];
    const refs = new Set(
      sources.filter((s) => typeof s['ref'] === 'string').map((s) => `$${String(s['ref'])}`),
    );
    const namespace = String(get(spec, 'destination', 'namespace') ?? 'default');
    const plain: Obj[] = [];
    const chart: Obj[] = [];
    for (const s of sources) {
      if (project && !repos.has(String(s['repoURL'])) && !repos.has('*'))
        problems.push(`source ${String(s['repoURL'])} is not a sourceRepo of the project`);
      if (typeof s['ref'] === 'string') continue;
      const path = String(s['path'] ?? '');
      if (!existsSync(join(opts.root, path))) {
        problems.push(`source path ${path} does not exist`);
        continue;
      }
      if (existsSync(join(opts.root, path, 'Chart.yaml'))) {
        const valueFiles: string[] = [];
        for (const vf of (get(s, 'helm', 'valueFiles') ?? []) as string[]) {
          const m = /^(\$[A-Za-z0-9_-]+)\/(.+)$/.exec(vf);
          const file = m ? (m[2] as string) : join(path, vf);
          if (m && !refs.has(m[1] as string))
            problems.push(`value file ${vf}: no source has ref ${m[1]?.slice(1)}`);
          if (!existsSync(join(opts.root, file))) problems.push(`value file ${vf}: ${file} does not exist`);
          else valueFiles.push(file);
        }
        try {
          const release = String(get(s, 'helm', 'releaseName') ?? 'eta');
          chart.push(...render(opts.helm, opts.root, release, path, namespace, valueFiles, opts.kubeVersion));
        } catch (err) {
          problems.push(
            `helm template ${path} failed: ${String((err as { stderr?: unknown }).stderr ?? err)}`,
          );
        }
      } else {
        for (const f of readdirSync(join(opts.root, path)).filter((f) => /\.ya?ml$/.test(f)))
          plain.push(...readObjects(join(opts.root, path, f)));
      }
    }
    if (project) problems.push(...projectProblems(project, [...plain, ...chart], namespace));
    for (const o of chart)
      if (o['kind'] !== 'Namespace' && get(o, 'metadata', 'namespace') !== undefined) {
        const ns = String(get(o, 'metadata', 'namespace'));
        if (
          ns !== namespace &&
          !plain.some((p) => p['kind'] === 'Namespace' && get(p, 'metadata', 'name') === ns)
        )
          problems.push(
            `${String(o['kind'])} ${String(get(o, 'metadata', 'name'))}: namespace ${ns} is neither the destination nor created by a source`,
          );
      }
    const syncOptions = (get(spec, 'syncPolicy', 'syncOptions') ?? []) as string[];
    problems.push(
      ...orderingProblems(plain, chart, {
        namespace,
        createNamespace: syncOptions.includes('CreateNamespace=true'),
      }),
    );
    const kinds = new Set(chart.map((o) => String(o['kind'])));
    if (problems.length === 0)
      console.log(
        `ok    ApplicationSet ${name}: sources, project and sync order (${chart.length} objects: ${[...kinds].sort().join(', ')})`,
      );
    else {
      ok = false;
      console.log(`FAIL  ApplicationSet ${name}`);
      for (const p of [...new Set(problems)]) console.log(`      ${p}`);
    }
  }
  return ok;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: 'deploy/argocd' },
      helm: { type: 'string', default: 'helm' },
      'kube-version': { type: 'string', default: '1.36.3' },
    },
  });
  const ok = checkArgo({
    dir: values.dir,
    helm: values.helm,
    root: process.cwd(),
    kubeVersion: values['kube-version'],
  });
  process.exit(ok ? 0 : 1);
}
