/**
 * The module-interface half of `terraform validate`, for a tree whose providers cannot be downloaded (so
 * `init` and `validate` cannot run): every .tf file parsed by HashiCorp's own HCL parser (@cdktf/hcl2json,
 * hcl/v2 compiled to WebAssembly), then, for every directory of .tf files under the given root:
 *
 * - every module call's `source` is a local path to a directory of .tf files;
 * - every argument of a module call is a variable of that module, and every variable of it without a
 *   default is passed;
 * - every `module.X` reference names a module call of this directory and `module.X.Y` an output of its
 *   module; every `var.X` a variable and every `local.X` a local of this directory;
 * - nothing is declared twice (variable, output, local, module call);
 * - a called module has no provider blocks, and declares in required_providers the provider of every
 *   resource, data source and ephemeral resource it has;
 * - a root module (a directory no module call points at: the environments) declares every provider its
 *   modules require, transitively, with the same source and the same version constraint, and the modules
 *   agree among themselves.
 *
 * Not checked (it needs the providers' schemas): resource and data source arguments, types, plan.
 *
 *   node scripts/delivery/terraform-check.ts <root, e.g. terraform>
 *
 * Prints one line per problem (file, block, what is wrong) and exits 1 when there is any.
 */
import { parse } from '@cdktf/hcl2json';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** hcl2json gives each block as a list of bodies (a label may repeat); nothing else is a list of objects. */
const bodies = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObj) : isObj(v) ? [v] : []);

/** Arguments of a module block that are Terraform's, not the module's variables. */
const MODULE_META = new Set(['source', 'version', 'count', 'for_each', 'providers', 'depends_on']);

interface Declared {
  readonly file: string;
}
interface ModuleCall extends Declared {
  readonly source: string;
  readonly args: readonly string[];
}
interface ProviderRequirement extends Declared {
  readonly source: string;
  readonly version: string;
}
interface Reference {
  readonly file: string;
  /** Where it was found: `module "gke"`, `output "x"`, `resource "google_x" "y"` ... */
  readonly where: string;
  readonly kind: 'var' | 'local' | 'module';
  readonly name: string;
  /** For module references: the output named, if any (`module.X.Y`). */
  readonly attr?: string;
}

/** One directory of .tf files: what it declares and what it refers to. */
export interface TfModule {
  readonly dir: string;
  readonly variables: Map<string, Declared & { readonly hasDefault: boolean }>;
  readonly outputs: Map<string, Declared>;
  readonly locals: Map<string, Declared>;
  readonly calls: Map<string, ModuleCall>;
  readonly providers: Map<string, ProviderRequirement>;
  readonly providerBlocks: Declared[];
  /** Provider local names that resources, data sources and ephemeral resources use, with one file each. */
  readonly usedProviders: Map<string, string>;
  readonly references: Reference[];
  readonly duplicates: { readonly file: string; readonly what: string; readonly first: string }[];
}

/** Every `${ ... }` and `%{ ... }` of a template string (escaped `$${` and `%%{` are literal text). */
export function interpolations(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length - 1; i++) {
    const c = text[i];
    if ((c !== '$' && c !== '%') || text[i + 1] !== '{') continue;
    if (text[i - 1] === c) continue; // $${ or %%{: an escape
    let depth = 0;
    let quote = false;
    let j = i + 1;
    for (; j < text.length; j++) {
      const ch = text[j];
      if (quote) {
        if (ch === '\\') j++;
        else if (ch === '"') quote = false;
        continue;
      }
      if (ch === '"') quote = true;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) break;
    }
    out.push(text.slice(i + 2, j));
    i = j;
  }
  return out;
}

const REF = /(?<![\w.\-"])(var|local|module)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?(?:\.([A-Za-z_][\w-]*))?/g;

/** The var., local. and module. references in one expression. */
export function referencesIn(expression: string): { kind: Reference['kind']; name: string; attr?: string }[] {
  const out: { kind: Reference['kind']; name: string; attr?: string }[] = [];
  for (const m of expression.matchAll(REF)) {
    const [, kind, name, attr] = m;
    if (kind === undefined || name === undefined) continue;
    const ref = { kind: kind as Reference['kind'], name };
    out.push(kind === 'module' && attr !== undefined ? { ...ref, attr } : ref);
  }
  return out;
}

function collectReferences(node: unknown, file: string, where: string, into: Reference[]): void {
  if (typeof node === 'string') {
    for (const expr of interpolations(node))
      for (const r of referencesIn(expr)) into.push({ ...r, file, where });
  } else if (Array.isArray(node)) for (const item of node) collectReferences(item, file, where, into);
  else if (isObj(node))
    for (const [key, value] of Object.entries(node)) {
      // A map key written as an expression, e.g. { (var.key) = ... }, comes back as "${var.key}".
      collectReferences(key, file, where, into);
      collectReferences(value, file, where, into);
    }
}

function tfFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tf') && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => join(dir, f));
}

function tfDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith('.tf'))) out.push(dir);
    for (const e of entries)
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(join(dir, e.name));
  };
  walk(root);
  return out.sort();
}

/** Parses one directory's .tf files; throws with the parser's message on invalid HCL. */
export async function loadModule(dir: string): Promise<TfModule> {
  const mod: TfModule = {
    dir,
    variables: new Map(),
    outputs: new Map(),
    locals: new Map(),
    calls: new Map(),
    providers: new Map(),
    providerBlocks: [],
    usedProviders: new Map(),
    references: [],
    duplicates: [],
  };
  const declare = <T extends Declared>(map: Map<string, T>, what: string, name: string, value: T): void => {
    const seen = map.get(name);
    if (seen !== undefined)
      mod.duplicates.push({ file: value.file, what: `${what} "${name}"`, first: seen.file });
    else map.set(name, value);
  };

  for (const file of tfFiles(dir)) {
    const hcl = await parse(file, readFileSync(file, 'utf8'));

    for (const [name, value] of Object.entries(isObj(hcl['variable']) ? hcl['variable'] : {}))
      for (const body of bodies(value)) {
        declare(mod.variables, 'variable', name, { file, hasDefault: 'default' in body });
        collectReferences(body['validation'], file, `variable "${name}"`, mod.references);
      }

    for (const [name, value] of Object.entries(isObj(hcl['output']) ? hcl['output'] : {}))
      for (const body of bodies(value)) {
        declare(mod.outputs, 'output', name, { file });
        collectReferences(body, file, `output "${name}"`, mod.references);
      }

    for (const body of bodies(hcl['locals']))
      for (const [name, value] of Object.entries(body)) {
        declare(mod.locals, 'local', name, { file });
        collectReferences(value, file, `local "${name}"`, mod.references);
      }

    for (const [name, value] of Object.entries(isObj(hcl['module']) ? hcl['module'] : {}))
      for (const body of bodies(value)) {
        const source = typeof body['source'] === 'string' ? body['source'] : '';
        const args = Object.keys(body).filter((k) => !MODULE_META.has(k));
        declare(mod.calls, 'module', name, { file, source, args });
        collectReferences(body, file, `module "${name}"`, mod.references);
      }

    for (const kind of ['resource', 'data', 'ephemeral'] as const) {
      const byType = hcl[kind];
      if (!isObj(byType)) continue;
      for (const [type, byName] of Object.entries(byType)) {
        const provider = type.split('_')[0] ?? type;
        if (!mod.usedProviders.has(provider)) mod.usedProviders.set(provider, file);
        for (const [name, value] of Object.entries(isObj(byName) ? byName : {}))
          for (const body of bodies(value))
            collectReferences(body, file, `${kind} "${type}" "${name}"`, mod.references);
      }
    }

    for (const [name, value] of Object.entries(isObj(hcl['provider']) ? hcl['provider'] : {}))
      for (const body of bodies(value)) {
        mod.providerBlocks.push({ file });
        collectReferences(body, file, `provider "${name}"`, mod.references);
      }

    for (const tf of bodies(hcl['terraform']))
      for (const req of bodies(tf['required_providers']))
        for (const [name, spec] of Object.entries(req)) {
          const s = isObj(spec) ? spec : {};
          declare(mod.providers, 'required provider', name, {
            file,
            source: typeof s['source'] === 'string' ? s['source'] : `hashicorp/${name}`,
            version: typeof s['version'] === 'string' ? s['version'] : '',
          });
        }
  }
  return mod;
}

const isLocalSource = (source: string): boolean => source.startsWith('./') || source.startsWith('../');

/** Every problem of the tree under `root`, as printable lines (paths relative to `base`). */
export async function checkTerraform(root: string, base = process.cwd()): Promise<string[]> {
  const problems: string[] = [];
  const rel = (p: string): string => relative(base, p) || '.';
  const modules = new Map<string, TfModule>();
  /** Directories that do not parse: reported once, and calls to them are not judged. */
  const broken = new Set<string>();
  for (const dir of tfDirs(resolve(root))) {
    try {
      modules.set(dir, await loadModule(dir));
    } catch (err) {
      broken.add(dir);
      problems.push(`${rel(dir)}: does not parse: ${(err as Error).message}`);
    }
  }

  const targetOf = (mod: TfModule, call: ModuleCall): TfModule | undefined =>
    isLocalSource(call.source) ? modules.get(resolve(mod.dir, call.source)) : undefined;
  const called = new Set<string>();

  for (const mod of modules.values()) {
    for (const d of mod.duplicates)
      problems.push(`${rel(d.file)}: ${d.what} is declared a second time (first in ${rel(d.first)})`);

    for (const [name, call] of mod.calls) {
      const at = `${rel(call.file)}: module "${name}"`;
      if (!isLocalSource(call.source)) {
        problems.push(`${at}: source "${call.source}" is not a local path (./ or ../)`);
        continue;
      }
      const target = targetOf(mod, call);
      if (target === undefined && broken.has(resolve(mod.dir, call.source))) continue;
      if (target === undefined) {
        problems.push(`${at}: source "${call.source}" is not a directory of .tf files`);
        continue;
      }
      called.add(target.dir);
      for (const arg of call.args)
        if (!target.variables.has(arg))
          problems.push(`${at}: argument "${arg}" is not a variable of ${rel(target.dir)}`);
      for (const [variable, v] of target.variables)
        if (!v.hasDefault && !call.args.includes(variable))
          problems.push(`${at}: required variable "${variable}" of ${rel(target.dir)} is not passed`);
    }

    for (const ref of mod.references) {
      const at = `${rel(ref.file)}: ${ref.where}`;
      if (ref.kind === 'var' && !mod.variables.has(ref.name))
        problems.push(`${at}: var.${ref.name} is not a declared variable`);
      else if (ref.kind === 'local' && !mod.locals.has(ref.name))
        problems.push(`${at}: local.${ref.name} is not a declared local`);
      else if (ref.kind === 'module') {
        const call = mod.calls.get(ref.name);
        if (call === undefined) {
          problems.push(`${at}: module.${ref.name} is not a module call of ${rel(mod.dir)}`);
          continue;
        }
        const target = targetOf(mod, call);
        if (target !== undefined && ref.attr !== undefined && !target.outputs.has(ref.attr))
          problems.push(`${at}: module.${ref.name}.${ref.attr} is not an output of ${rel(target.dir)}`);
      }
    }
  }

  // Providers: a called module never configures one, and declares the one of each resource it has.
  for (const mod of modules.values()) {
    if (called.has(mod.dir))
      for (const block of mod.providerBlocks)
        problems.push(`${rel(block.file)}: a called module must not configure a provider (provider block)`);
    for (const [provider, file] of mod.usedProviders)
      if (!mod.providers.has(provider))
        problems.push(
          `${rel(file)}: uses provider "${provider}" but ${rel(mod.dir)} does not declare it in required_providers`,
        );
  }

  // A root module declares what its modules require, transitively, with the same source and constraint.
  const requirementsOf = (
    mod: TfModule,
    seen = new Set<string>(),
  ): Map<string, { req: ProviderRequirement; by: string }[]> => {
    const out = new Map<string, { req: ProviderRequirement; by: string }[]>();
    if (seen.has(mod.dir)) return out;
    seen.add(mod.dir);
    for (const call of mod.calls.values()) {
      const target = targetOf(mod, call);
      if (target === undefined) continue;
      const add = (name: string, entry: { req: ProviderRequirement; by: string }): void => {
        out.set(name, [...(out.get(name) ?? []), entry]);
      };
      for (const [name, req] of target.providers) add(name, { req, by: rel(target.dir) });
      for (const [name, entries] of requirementsOf(target, seen)) for (const e of entries) add(name, e);
    }
    return out;
  };
  for (const mod of modules.values()) {
    if (called.has(mod.dir) || mod.calls.size === 0) continue;
    for (const [name, entries] of requirementsOf(mod)) {
      const own = mod.providers.get(name);
      const first = entries[0];
      if (first === undefined) continue;
      if (own === undefined) {
        problems.push(
          `${rel(mod.dir)}: provider "${name}" (required by ${[...new Set(entries.map((e) => e.by))].join(', ')}) is not in its required_providers`,
        );
        continue;
      }
      for (const { req, by } of entries) {
        if (req.source.toLowerCase() !== own.source.toLowerCase())
          problems.push(
            `${rel(own.file)}: provider "${name}" is ${own.source} here but ${req.source} in ${by}`,
          );
        if (req.version !== own.version)
          problems.push(
            `${rel(own.file)}: provider "${name}" version "${own.version}" differs from "${req.version}" in ${by}`,
          );
      }
    }
  }
  return [...new Set(problems)];
}

if (import.meta.main) {
  const root = process.argv[2];
  if (root === undefined) {
    console.error('usage: node scripts/delivery/terraform-check.ts <terraform root>');
    process.exit(2);
  }
  const problems = await checkTerraform(root);
  const dirs = tfDirs(resolve(root)).map((d) => relative(process.cwd(), d));
  if (problems.length > 0) {
    for (const p of problems) console.log(`FAIL  ${p}`);
    console.log(`${problems.length} problem(s) in ${dirs.length} module(s) under ${root}`);
    process.exit(1);
  }
  console.log(
    `ok    ${dirs.length} modules under ${root}: module calls, variables, outputs, references, providers`,
  );
  for (const d of dirs) console.log(`      ${d}`);
}
