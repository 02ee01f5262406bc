import { describe, expect, it } from 'vitest';
import { orderingProblems, projectProblems } from './argocd.ts';
import {
  applyProfile,
  containerImages,
  expandTemplate,
  helmArgs,
  imageVariables,
  templateName,
} from './skaffold.ts';

describe('skaffold emulation', () => {
  it('a profile replaces list, pointer and one-of fields whole and keeps the base where it says nothing', () => {
    const base = {
      build: { artifacts: [{ image: 'a' }, { image: 'b' }], local: { push: false, useBuildkit: true } },
      deploy: {
        helm: { releases: [{ name: 'eta', valuesFiles: ['x.yaml'] }] },
        statusCheckDeadlineSeconds: 60,
      },
      portForward: [{ resourceName: 's' }],
    };
    const out = applyProfile(base, {
      name: 'p',
      activation: [{ command: 'dev' }],
      build: { artifacts: [{ image: 'c' }], local: { push: true } },
      deploy: { helm: { releases: [{ name: 'eta' }] } },
    });
    expect(out['build']).toEqual({ artifacts: [{ image: 'c' }], local: { push: true } });
    expect(out['deploy']).toEqual({ helm: { releases: [{ name: 'eta' }] }, statusCheckDeadlineSeconds: 60 });
    expect(out['portForward']).toEqual([{ resourceName: 's' }]);
    expect(out['name']).toBeUndefined();
    expect(base.build.artifacts).toHaveLength(2);
  });

  it("names template variables as skaffold does, with the registry's domain", () => {
    expect(templateName('eta/ml-proxy')).toBe('eta_ml_proxy');
    const vars = imageVariables([{ image: 'eta/geo' }], (image) => ({
      repo: `asia-northeast3-docker.pkg.dev/p/${image}`,
      tag: 't1',
      digest: 'sha256:00',
    }));
    expect(vars.get('IMAGE_REPO_eta_geo')).toBe('asia-northeast3-docker.pkg.dev/p/eta/geo');
    expect(vars.get('IMAGE_DOMAIN_eta_geo')).toBe('asia-northeast3-docker.pkg.dev');
    expect(vars.get('IMAGE_FULLY_QUALIFIED_eta_geo')).toBe(
      'asia-northeast3-docker.pkg.dev/p/eta/geo:t1@sha256:00',
    );
    const local = imageVariables([{ image: 'eta/geo' }], (image) => ({ repo: image, tag: 't', digest: 'd' }));
    expect(local.get('IMAGE_DOMAIN_eta_geo')).toBe('docker.io');
  });

  it('refuses a template for an artifact the profile does not build, and any other template', () => {
    const vars = new Map([['IMAGE_TAG_eta_geo', 't1']]);
    expect(expandTemplate('{{.IMAGE_TAG_eta_geo}}', vars)).toBe('t1');
    expect(() => expandTemplate('{{.IMAGE_TAG_eta_prescaler}}', vars)).toThrow(/no artifact of this profile/);
    expect(() => expandTemplate('{{ default "x" .A }}', vars)).toThrow(/only \{\{\.NAME\}\}/);
  });

  it("builds helm's arguments in skaffold's order: sorted setValues, sorted templates, then values files", () => {
    const args = helmArgs(
      {
        name: 'eta',
        chartPath: 'charts/suite',
        namespace: 'eta',
        valuesFiles: ['a.yaml', 'b.yaml'],
        setValues: { 'z.k': 'v', 'a.k': '' },
        setValueTemplates: { 'geo.image.tag': '{{.T}}@' },
      },
      new Map([['T', 'abc']]),
      '1.36.3',
    );
    expect(args).toEqual([
      'eta',
      'charts/suite',
      '--namespace',
      'eta',
      '--kube-version',
      '1.36.3',
      '--set',
      'a.k=',
      '--set',
      'z.k=v',
      '--set',
      'geo.image.tag=abc',
      '-f',
      'a.yaml',
      '-f',
      'b.yaml',
    ]);
  });

  it('finds every container image, CronJob pods and init containers included', () => {
    const manifests = [
      'kind: Deployment\nspec:\n  template:\n    spec:\n      initContainers: [{name: i, image: "x:1"}]\n      containers: [{name: c, image: "y:2"}]',
      'kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: c, image: "z@sha256:00"}]',
    ].join('\n---\n');
    expect(containerImages(manifests).sort()).toEqual(['x:1', 'y:2', 'z@sha256:00']);
  });
});

describe('Argo CD checks', () => {
  const project = {
    kind: 'AppProject',
    spec: {
      destinations: [{ namespace: 'eta', server: '*' }],
      clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
      namespaceResourceWhitelist: [{ group: 'apps', kind: 'Deployment' }],
    },
  };

  it('flags kinds and namespaces the project would refuse to sync', () => {
    const problems = projectProblems(
      project,
      [
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ok' } },
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'away', namespace: 'eta-admin' } },
        { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c', namespace: 'eta' } },
        { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'eta' } },
      ],
      'eta',
    );
    expect(problems).toEqual([
      'Deployment away: namespace eta-admin is not a destination of the project',
      "CronJob c: batch/CronJob is not in the project's namespaceResourceWhitelist",
      "PriorityClass p: cluster-scoped scheduling.k8s.io/PriorityClass is not in the project's clusterResourceWhitelist",
    ]);
  });

  it('wants a PreSync hook in the destination namespace, created before the hooks', () => {
    const hook = (namespace: string) => ({
      kind: 'Job',
      metadata: { name: 'm', namespace, annotations: { 'argocd.argoproj.io/hook': 'PreSync' } },
    });
    expect(orderingProblems([], [hook('eta')], { namespace: 'eta', createNamespace: true })).toEqual([]);
    expect(orderingProblems([], [hook('eta-admin')], { namespace: 'eta', createNamespace: true })).toEqual([
      'Job m: a PreSync hook in namespace eta-admin, which a sync creates only after its hooks (phases before waves)',
    ]);
    expect(orderingProblems([], [hook('eta')], { namespace: 'eta', createNamespace: false })).toEqual([
      'Job m: a PreSync hook needs its namespace before the sync: set syncOptions CreateNamespace=true',
    ]);
  });

  it('wants the namespaces before the chart and a migration Job as a PreSync hook', () => {
    const ns = (wave?: string) => ({
      kind: 'Namespace',
      metadata: { name: 'eta', ...(wave ? { annotations: { 'argocd.argoproj.io/sync-wave': wave } } : {}) },
    });
    const hook = {
      kind: 'Job',
      metadata: { name: 'eta-vendor-bff-migrate', annotations: { 'argocd.argoproj.io/hook': 'PreSync' } },
    };
    const plainJob = { kind: 'Job', metadata: { name: 'eta-vendor-bff-migrate' } };
    const deployment = { kind: 'Deployment', metadata: { name: 'd' } };
    const dest = { namespace: 'eta', createNamespace: true };
    expect(orderingProblems([ns('-2')], [hook, deployment], dest)).toEqual([]);
    expect(orderingProblems([ns()], [deployment], dest)).toEqual([
      "Namespace eta: sync wave 0 is not before the chart's first wave (0)",
    ]);
    expect(orderingProblems([ns('-2')], [plainJob, deployment], dest)).toEqual([
      'Job eta-vendor-bff-migrate: a migration must be an Argo CD PreSync hook, before the pods roll',
    ]);
  });
});
