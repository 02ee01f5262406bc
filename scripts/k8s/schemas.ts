/**
 * Writes kubeconform's strict JSON schemas for every kind of a Kubernetes release, from that release's own
 * OpenAPI document (api/openapi-spec/swagger.json of the k8s.io/kubernetes module, which
 * scripts/k8s/tools.sh copies into its tools folder).
 *
 *   node scripts/k8s/schemas.ts <swagger.json> <out-dir> [<crd.yaml> ...]
 *
 * One standalone file per kind, named the way kubeconform looks them up
 * (`-schema-location '<out-dir>/{{ .ResourceKind }}{{ .KindSuffix }}.json'`): `deployment-apps-v1.json`,
 * `service-v1.json`. Standalone because kubeconform cannot follow a `$ref` into a shared definitions file
 * (it then says "could not find schema" and validates nothing): each file carries the definitions it
 * reaches under its own `definitions`. Strict because every object with declared properties gets
 * `additionalProperties: false`, so a misspelt or misplaced field fails instead of being ignored.
 *
 * CustomResourceDefinitions given after the out-dir (KEDA's ScaledObject, the Prometheus Operator's
 * ServiceMonitor: scripts/k8s/tools.sh takes them from the projects' Go modules) add a schema per served
 * version from their openAPIV3Schema, strict the same way except where the CRD keeps unknown fields.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Schema = { [key: string]: unknown };

interface Gvk {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

const REF = '#/definitions/';

/** The swagger types that JSON Schema spells otherwise (as openapi2jsonschema does). */
const SPECIAL: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { oneOf: [{ type: 'string' }, { type: 'integer' }] },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
};

function strictify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictify);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'description' ? v : strictify(v);
  if (out.properties !== undefined && out.additionalProperties === undefined)
    out.additionalProperties = false;
  return out;
}

function refsIn(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) refsIn(item, found);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith(REF)) found.add(v.slice(REF.length));
    else refsIn(v, found);
  }
}

/** Every definition `name` reaches through `$ref`s, itself included. */
function closure(name: string, defs: Record<string, Schema>): Set<string> {
  const seen = new Set<string>();
  const todo = [name];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const refs = new Set<string>();
    refsIn(defs[next], refs);
    todo.push(...refs);
  }
  return seen;
}

/** kubeconform's file name for a kind: lower-case kind, the group's first label, the version. */
export function schemaFileName({ group, version, kind }: Gvk): string {
  const suffix = group === '' ? `-${version}` : `-${group.split('.')[0]}-${version}`;
  return `${kind.toLowerCase()}${suffix}.json`.toLowerCase();
}

export async function writeSchemas(swaggerPath: string, outDir: string): Promise<number> {
  const swagger = JSON.parse(await readFile(swaggerPath, 'utf8')) as { definitions: Record<string, Schema> };
  const defs: Record<string, Schema> = { ...swagger.definitions, ...SPECIAL };
  await mkdir(outDir, { recursive: true });
  let written = 0;
  for (const [name, def] of Object.entries(swagger.definitions)) {
    const gvks = def['x-kubernetes-group-version-kind'] as Gvk[] | undefined;
    // List kinds and the meta types that every group repeats (DeleteOptions, WatchEvent) are not objects
    // anyone writes into a chart.
    if (gvks === undefined || name.endsWith('List')) continue;
    const reached: Schema = {};
    for (const dep of closure(name, defs)) if (dep !== name) reached[dep] = strictify(defs[dep]);
    for (const gvk of gvks) {
      const schema = strictify(def) as Schema;
      const props = schema.properties as Record<string, Schema> | undefined;
      // The document's apiVersion and kind must name this very kind, not any string.
      if (props?.apiVersion)
        props.apiVersion = {
          type: 'string',
          enum: [gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version],
        };
      if (props?.kind) props.kind = { type: 'string', enum: [gvk.kind] };
      const file = { $schema: 'http://json-schema.org/draft-07/schema#', ...schema, definitions: reached };
      await writeFile(join(outDir, schemaFileName(gvk)), JSON.stringify(file));
      written++;
    }
  }
  return written;
}

interface Crd {
  kind?: string;
  spec?: {
    group: string;
    names: { kind: string };
    versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: Schema } }[];
  };
}

/** One strict schema per served version of each CustomResourceDefinition in the YAML file. */
export async function writeCrdSchemas(crdPath: string, outDir: string): Promise<number> {
  let written = 0;
  for (const doc of parseAllDocuments(await readFile(crdPath, 'utf8'))) {
    const crd = doc.toJS() as Crd | null;
    if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
    const { group, names, versions } = crd.spec;
    for (const v of versions) {
      const schema = v.schema?.openAPIV3Schema;
      if (!v.served || !schema) continue;
      const strict = strictify(schema) as Schema;
      const props = strict.properties as Record<string, Schema> | undefined;
      if (props) {
        props.apiVersion = { type: 'string', enum: [`${group}/${v.name}`] };
        props.kind = { type: 'string', enum: [names.kind] };
        // The API server fills metadata in; validate only that it is an object, as for built-in kinds.
        props.metadata = { type: 'object' };
      }
      const file = { $schema: 'http://json-schema.org/draft-07/schema#', ...strict };
      await writeFile(
        join(outDir, schemaFileName({ group, version: v.name, kind: names.kind })),
        JSON.stringify(file),
      );
      written++;
    }
  }
  if (written === 0) throw new Error(`${crdPath}: no served CustomResourceDefinition version with a schema`);
  return written;
}

if (import.meta.main) {
  const [swaggerPath, outDir, ...crds] = process.argv.slice(2);
  if (!swaggerPath || !outDir) {
    console.error('usage: node scripts/k8s/schemas.ts <swagger.json> <out-dir> [<crd.yaml> ...]');
    process.exit(2);
  }
  let n = await writeSchemas(swaggerPath, outDir);
  for (const crd of crds) n += await writeCrdSchemas(crd, outDir);
  console.error(`schemas: wrote ${n} kind schemas to ${outDir}`);
}
