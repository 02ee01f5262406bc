/**
 * `skaffold render` for every profile of skaffold.yaml, without skaffold (the Go module proxy here does not
 * serve it): validates the file against skaffold's published JSON schema, applies each profile the way
 * skaffold does, and renders its Helm releases with the same `helm` arguments skaffold builds, the image
 * templates filled with stand-in references for the profile's artifacts. The rendered manifests are then
 * validated by kubeconform (scripts/delivery/check.sh).
 *
 *   node scripts/delivery/skaffold.ts --config skaffold.yaml --schema deploy/schemas/skaffold-v4beta14.json \
 *     --helm <helm> --out <dir> [--kube-version 1.36.3]
 *
 * Writes <dir>/<profile>.yaml (`default` for the base configuration) and exits 1 on any problem: a schema
 * violation, a Dockerfile target that does not exist (or a release artifact that is not a release image),
 * a values file that does not exist, a template naming an artifact the profile does not build, a helm
 * failure, a container image no artifact builds, a port-forward to a Service that is not rendered.
 *
 * What skaffold does that this follows (skaffold v2.24.0, pkg/skaffold/schema/profiles.go and
 * pkg/skaffold/helm/args.go):
 * - A profile overlays the base field by field; lists, pointers and one-of groups (`build.artifacts`,
 *   `build.local`, `build.tagPolicy`, `deploy.helm`, ...) are replaced whole, never merged. Below a
 *   section's direct fields everything in this file is such a field, so the overlay here merges the top two
 *   levels and replaces below them.
 * - `helm` gets `--set k=v` per setValues (sorted), `--set k=<expanded>` per setValueTemplates (sorted;
 *   `{{.IMAGE_REPO_<name>}}`, `_TAG_`, `_DIGEST_`, ... with `/`, `-`, `.` and `:` of the image name as `_`),
 *   then `-f` per values file, in that order.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { imageTargets, parseDockerfile } from '../images/dockerfile.ts';

type Obj = Record<string, unknown>;

export interface Artifact {
  readonly image: string;
  readonly docker?: { dockerfile?: string; target?: string; buildArgs?: Record<string, string> };
}

export interface HelmRelease {
  readonly name: string;
  readonly chartPath?: string;
  readonly namespace?: string;
  readonly valuesFiles?: readonly string[];
  readonly setValues?: Record<string, unknown>;
  readonly setValueTemplates?: Record<string, unknown>;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A profile laid over the base as skaffold does it for this file's fields (see the header). */
export function applyProfile(base: Obj, profile: Obj): Obj {
  const out: Obj = structuredClone(base);
  for (const [section, value] of Object.entries(profile)) {
    if (['name', 'activation', 'requiresAllActivations', 'patches'].includes(section)) continue;
    if (isObj(value) && isObj(out[section])) {
      out[section] = { ...(out[section] as Obj), ...structuredClone(value) };
    } else {
      out[section] = structuredClone(value);
    }
  }
  return out;
}

/** skaffold's util.SanitizeHelmTemplateValue: the image name as a Go template identifier. */
export const templateName = (image: string): string => image.replace(/[/\-.:]/g, '_');

/** The variables skaffold gives a release's templates for built images (envVarForImage), by name. */
export function imageVariables(
  artifacts: readonly Artifact[],
  ref: (image: string) => { repo: string; tag: string; digest: string },
): Map<string, string> {
  const vars = new Map<string, string>();
  for (const a of artifacts) {
    const { repo, tag, digest } = ref(a.image);
    const slash = repo.indexOf('/');
    const domain =
      slash > 0 && /[.:]|^localhost$/.test(repo.slice(0, slash)) ? repo.slice(0, slash) : 'docker.io';
    const n = templateName(a.image);
    vars.set(`IMAGE_REPO_${n}`, repo);
    vars.set(`IMAGE_TAG_${n}`, tag);
    vars.set(`IMAGE_DIGEST_${n}`, digest);
    vars.set(`IMAGE_DOMAIN_${n}`, domain);
    vars.set(`IMAGE_FULLY_QUALIFIED_${n}`, `${repo}:${tag}@${digest}`);
  }
  return vars;
}

/** `{{.NAME}}` references only; a name with no value is an error (skaffold would render "<no value>"). */
export function expandTemplate(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_m, expr: string) => {
    const m = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr);
    if (!m) throw new Error(`template {{${expr}}}: only {{.NAME}} is understood here`);
    const v = vars.get(m[1] as string);
    if (v === undefined) throw new Error(`template {{${expr}}}: no artifact of this profile gives ${m[1]}`);
    return v;
  });
}

/** The arguments after `helm template`, in skaffold's order. */
export function helmArgs(
  release: HelmRelease,
  vars: ReadonlyMap<string, string>,
  kubeVersion: string,
): string[] {
  const args = [release.name, release.chartPath ?? '', '--namespace', release.namespace ?? 'default'];
  args.push('--kube-version', kubeVersion);
  const sorted = (o: Record<string, unknown> | undefined) => Object.keys(o ?? {}).sort();
  for (const k of sorted(release.setValues)) args.push('--set', `${k}=${String(release.setValues?.[k])}`);
  for (const k of sorted(release.setValueTemplates)) {
    const v = expandTemplate(String(release.setValueTemplates?.[k]), vars).replace(/@$/, '');
    args.push('--set', `${expandTemplate(k, vars)}=${v}`);
  }
  for (const f of release.valuesFiles ?? []) args.push('-f', expandTemplate(f, vars));
  return args;
}

/** Every container image of the rendered manifests (init containers and CronJob pods included). */
export function containerImages(manifests: string): string[] {
  const images: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isObj(node)) {
      for (const key of ['containers', 'initContainers']) {
        const list = node[key];
        if (Array.isArray(list))
          for (const c of list) if (isObj(c) && typeof c['image'] === 'string') images.push(c['image']);
      }
      Object.values(node).forEach(walk);
    }
  };
  for (const doc of parseAllDocuments(manifests)) walk(doc.toJS());
  return images;
}

/** Images the charts run that skaffold does not build (pinned third-party images). */
const THIRD_PARTY = [/^registry\.k8s\.io\/pause:/];

interface ProfileResult {
  readonly name: string;
  readonly problems: string[];
  readonly manifests: string;
}

function renderProfile(
  name: string,
  config: Obj,
  opts: { helm: string; kubeVersion: string; root: string; defaultRepo?: string | undefined },
): ProfileResult {
  const problems: string[] = [];
  const build = (config['build'] ?? {}) as Obj;
  const artifacts = (build['artifacts'] ?? []) as Artifact[];
  const pushed = isObj(build['local']) ? (build['local'] as Obj)['push'] === true : false;

  // Dockerfile targets: a release profile (pushing) builds release images only.
  const dockerfiles = new Map<string, ReturnType<typeof parseDockerfile>>();
  for (const a of artifacts) {
    const file = a.docker?.dockerfile ?? 'Dockerfile';
    let df = dockerfiles.get(file);
    if (!df) {
      df = parseDockerfile(readFileSync(join(opts.root, file), 'utf8'));
      dockerfiles.set(file, df);
    }
    const target = a.docker?.target;
    if (target === undefined)
      problems.push(`${a.image}: no docker.target (the Dockerfile builds one image per target)`);
    else if (!df.stages.some((s) => s.name === target))
      problems.push(`${a.image}: ${file} has no stage ${target}`);
    else if (pushed && !imageTargets(df).includes(target))
      problems.push(`${a.image}: pushed, but ${target} is not a release image target of ${file}`);
    const declared = new Set(
      df.stages.flatMap((s) =>
        s.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0]),
      ),
    );
    for (const arg of Object.keys(a.docker?.buildArgs ?? {}))
      if (!declared.has(arg)) problems.push(`${a.image}: build arg ${arg} is not an ARG of ${file}`);
  }

  const registry = pushed ? (opts.defaultRepo ?? 'registry.example.com/eta-suite') : undefined;
  const vars = imageVariables(artifacts, (image) => ({
    repo: registry ? `${registry}/${image}` : image,
    tag: 'abc1234',
    digest: `sha256:${'0123456789abcdef'.repeat(4)}`,
  }));

  const deploy = (config['deploy'] ?? {}) as Obj;
  const releases = ((deploy['helm'] as Obj | undefined)?.['releases'] ?? []) as HelmRelease[];
  if (releases.length === 0) problems.push('no helm release');
  let manifests = '';
  for (const release of releases) {
    for (const f of release.valuesFiles ?? [])
      if (!existsSync(join(opts.root, f))) problems.push(`release ${release.name}: no values file ${f}`);
    if (!release.chartPath || !existsSync(join(opts.root, release.chartPath, 'Chart.yaml')))
      problems.push(`release ${release.name}: no chart at ${release.chartPath}`);
    let args: string[];
    try {
      args = helmArgs(release, vars, opts.kubeVersion);
    } catch (err) {
      problems.push(`release ${release.name}: ${(err as Error).message}`);
      continue;
    }
    try {
      manifests += execFileSync(opts.helm, ['template', ...args], {
        cwd: opts.root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '')
        .split('\n')
        .filter((l) => l && !l.includes('found symbolic link'))
        .join('\n');
      problems.push(`release ${release.name}: helm template failed: ${stderr || (err as Error).message}`);
    }
  }

  // Every image the manifests run is built by this profile (or pinned third-party), and every artifact runs.
  const built = new Map(
    artifacts.map((a) => {
      const n = templateName(a.image);
      return [
        a.image,
        [vars.get(`IMAGE_REPO_${n}`), vars.get(`IMAGE_TAG_${n}`), vars.get(`IMAGE_DIGEST_${n}`)],
      ] as const;
    }),
  );
  const used = new Set<string>();
  for (const image of new Set(containerImages(manifests))) {
    if (THIRD_PARTY.some((re) => re.test(image))) continue;
    const match = [...built].find(
      ([, [repo, tag, digest]]) => image === `${repo}:${tag}` || image === `${repo}@${digest}`,
    );
    if (match) used.add(match[0]);
    else problems.push(`a container runs ${image}, which no artifact of this profile builds`);
  }
  const unused = artifacts.filter((a) => !used.has(a.image)).map((a) => a.image);
  if (unused.length > 0 && manifests)
    console.log(`note  ${name}: built but not run by these values: ${unused.join(', ')}`);

  // Port forwards name rendered Services.
  const services = new Set(
    parseAllDocuments(manifests)
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => isObj(o) && o['kind'] === 'Service')
      .map((o) => `${(o['metadata'] as Obj)['namespace']}/${(o['metadata'] as Obj)['name']}`),
  );
  for (const pf of (config['portForward'] ?? []) as Obj[]) {
    if (pf['resourceType'] !== 'service') continue;
    const key = `${pf['namespace'] ?? 'default'}/${pf['resourceName']}`;
    if (!services.has(key)) problems.push(`portForward to service ${key}, which is not rendered`);
  }
  return { name, problems, manifests };
}

export function checkSkaffold(opts: {
  config: string;
  schema: string;
  helm: string;
  out: string;
  kubeVersion: string;
  root: string;
  defaultRepo?: string | undefined;
}): boolean {
  const text = readFileSync(opts.config, 'utf8');
  const docs = parseAllDocuments(text, { merge: true });
  if (docs.length !== 1 || docs[0]?.errors.length) {
    console.log(
      `FAIL  ${opts.config}: expected one YAML document (${docs[0]?.errors.map((e) => e.message).join('; ')})`,
    );
    return false;
  }
  const config = parse(text, { merge: true }) as Obj;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(opts.schema, 'utf8')) as object);
  let ok = true;
  if (!validate(config)) {
    ok = false;
    console.log(`FAIL  ${opts.config} against ${opts.schema}`);
    for (const e of validate.errors ?? [])
      console.log(
        `      ${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
      );
  } else console.log(`ok    ${opts.config} matches ${opts.schema}`);

  mkdirSync(opts.out, { recursive: true });
  const profiles = [{ name: 'default' } as Obj, ...((config['profiles'] ?? []) as Obj[])];
  for (const profile of profiles) {
    const name = String(profile['name']);
    const effective = name === 'default' ? config : applyProfile(config, profile);
    const result = renderProfile(name, effective, opts);
    writeFileSync(join(opts.out, `${name}.yaml`), result.manifests);
    if (result.problems.length === 0) console.log(`ok    profile ${name}: rendered`);
    else {
      ok = false;
      console.log(`FAIL  profile ${name}`);
      for (const p of result.problems) console.log(`      ${p}`);
    }
  }
  return ok;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'skaffold.yaml' },
      schema: { type: 'string' },
      helm: { type: 'string', default: 'helm' },
      out: { type: 'string' },
      'kube-version': { type: 'string', default: '1.36.3' },
      'default-repo': { type: 'string' },
    },
  });
  if (!values.schema || !values.out) {
    console.error(
      'usage: skaffold.ts --config skaffold.yaml --schema <schema.json> --helm <helm> --out <dir>',
    );
    process.exit(2);
  }
  const ok = checkSkaffold({
    config: values.config,
    schema: values.schema,
    helm: values.helm,
    out: values.out,
    kubeVersion: values['kube-version'],
    root: process.cwd(),
    defaultRepo: values['default-repo'],
  });
  process.exit(ok ? 0 : 1);
}
