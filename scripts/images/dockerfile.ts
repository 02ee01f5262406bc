/**
 * Reads the repository's Dockerfile the way scripts/images/build.ts needs it: the final image of a target
 * (its stages from the external runtime image down to the target), with the configuration those stages
 * declare and the layers they COPY from the build stages. Only what the Dockerfile uses after its build
 * stages is accepted; anything else (RUN, ADD, a COPY from the build context ...) is an error that names the
 * line, so an instruction the daemonless build would silently drop can never be added there.
 */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string | undefined;
  readonly from: string;
  readonly line: number;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: ReadonlyMap<string, string | undefined>;
  readonly stages: readonly Stage[];
}

/** What an image's config holds (the OCI image config's `config` object), as the stages build it up. */
export interface ImageConfig {
  User?: string;
  Env: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  ExposedPorts: Record<string, object>;
  Labels: Record<string, string>;
  StopSignal?: string;
}

/** One layer: the tree `stage.sh <service> /out` writes to /out/<part>/, copied to the image's /. */
export interface LayerSource {
  readonly service: string;
  readonly part: string;
  /** The instruction, for the image's history. */
  readonly createdBy: string;
}

export interface HistoryEntry {
  readonly createdBy: string;
  readonly emptyLayer: boolean;
}

export interface ImagePlan {
  readonly target: string;
  /** The external image the chain starts from, its ARGs substituted. */
  readonly base: string;
  readonly config: ImageConfig;
  readonly layers: readonly LayerSource[];
  /** Every instruction of the chain in order, for the image config's history. */
  readonly history: readonly HistoryEntry[];
}

export class DockerfileError extends Error {
  constructor(line: number, message: string) {
    super(`Dockerfile:${line}: ${message}`);
    this.name = 'DockerfileError';
  }
}

/** Splits the file into instructions: continuation lines joined, comments and blank lines dropped. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] ?? '';
    if (/^\s*(#.*)?$/.test(first)) continue;
    const start = i + 1;
    let logical = first;
    while (/\\\s*$/.test(logical)) {
      logical = logical.replace(/\\\s*$/, '');
      i++;
      if (i >= lines.length) break;
      const next = lines[i] ?? '';
      // Comment lines inside a continuation are removed, as Docker does.
      if (/^\s*#/.test(next)) {
        logical += '\\';
        continue;
      }
      logical += ` ${next.trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(logical);
    if (!match) throw new DockerfileError(start, `cannot read ${JSON.stringify(logical)}`);
    instructions.push({
      keyword: (match[1] ?? '').toUpperCase(),
      args: (match[2] ?? '').trim(),
      line: start,
    });
  }

  const globalArgs = new Map<string, string | undefined>();
  const stages: { name: string | undefined; from: string; line: number; instructions: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new DockerfileError(ins.line, `cannot read FROM ${ins.args}`);
      stages.push({ name: m[2]?.toLowerCase(), from: m[1] ?? '', line: ins.line, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new DockerfileError(ins.line, `${ins.keyword} before the first FROM`);
      const [name, value] = splitAssignment(ins.args);
      globalArgs.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

function splitAssignment(text: string): [string, string | undefined] {
  const at = text.indexOf('=');
  return at < 0 ? [text.trim(), undefined] : [text.slice(0, at).trim(), unquote(text.slice(at + 1).trim())];
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) return value.slice(1, -1);
  return value;
}

/** `$NAME` and `${NAME}` from `vars`; unknown names expand to the empty string, as Docker does. */
export function expand(value: string, vars: ReadonlyMap<string, string | undefined>): string {
  return value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, a, b) => {
    return vars.get((a ?? b) as string) ?? '';
  });
}

/**
 * `KEY=value KEY2="a value"` (ENV, LABEL); the legacy `ENV KEY value` form too. Double-quoted values keep
 * their spaces and take backslash escapes; single-quoted values are literal; `$VAR` expands from `vars`
 * except inside single quotes.
 */
export function parsePairs(
  text: string,
  vars: ReadonlyMap<string, string | undefined>,
  line: number,
): [string, string][] {
  if (!/^[^\s=]+=/.test(text)) {
    const m = /^(\S+)\s+(.*)$/.exec(text);
    if (!m) throw new DockerfileError(line, `expected KEY=value in ${JSON.stringify(text)}`);
    return [[m[1] ?? '', expand(m[2] ?? '', vars)]];
  }
  const pairs: [string, string][] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new DockerfileError(line, `expected KEY=value at ${JSON.stringify(text.slice(i))}`);
    const key = text.slice(i, eq);
    if (/\s/.test(key))
      throw new DockerfileError(line, `expected KEY=value at ${JSON.stringify(text.slice(i))}`);
    i = eq + 1;
    let value = '';
    while (i < text.length && text[i] !== ' ' && text[i] !== '\t') {
      const c = text[i] as string;
      if (c === '"') {
        i++;
        let chunk = '';
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < text.length) i++;
          chunk += text[i];
          i++;
        }
        if (text[i] !== '"') throw new DockerfileError(line, 'unterminated double quote');
        i++;
        value += expand(chunk, vars);
      } else if (c === "'") {
        const end = text.indexOf("'", i + 1);
        if (end < 0) throw new DockerfileError(line, 'unterminated single quote');
        value += text.slice(i + 1, end);
        i = end + 1;
      } else {
        let chunk = '';
        while (i < text.length && !/[\s"']/.test(text[i] as string)) {
          if (text[i] === '\\' && i + 1 < text.length) i++;
          chunk += text[i];
          i++;
        }
        value += expand(chunk, vars);
      }
    }
    pairs.push([key, value]);
  }
  return pairs;
}

function jsonArray(ins: Instruction): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ins.args);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new DockerfileError(ins.line, `${ins.keyword} must be in exec form (a JSON array of strings)`);
  }
  return parsed;
}

/** The build stage's `scripts/images/stage.sh <service> /out` run, which a COPY --from may name. */
function stagedService(stage: Stage): string | undefined {
  for (const ins of stage.instructions) {
    if (ins.keyword !== 'RUN') continue;
    const m = /(?:^|\s)scripts\/images\/stage\.sh\s+(\S+)\s+\/out(?:\s|$)/.exec(ins.args);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The image the target stage builds: walks FROM links up to the external image, then applies each stage's
 * instructions in order (Docker semantics: ENV and LABEL accumulate, ENTRYPOINT resets an inherited CMD).
 */
export function planImage(df: Dockerfile, target: string, baseConfig: ImageConfig): ImagePlan {
  const byName = new Map(df.stages.filter((s) => s.name !== undefined).map((s) => [s.name as string, s]));
  const chain: Stage[] = [];
  let stage = byName.get(target);
  if (!stage) throw new Error(`the Dockerfile has no stage ${target}`);
  while (stage) {
    chain.unshift(stage);
    const parent: Stage | undefined = byName.get(stage.from.toLowerCase());
    if (parent && chain.includes(parent)) throw new DockerfileError(stage.line, 'FROM loop');
    stage = parent;
  }
  const root = chain[0] as Stage;
  const base = expand(root.from, df.globalArgs);

  const config: ImageConfig = structuredClone(baseConfig);
  const env = new Map<string, string | undefined>(
    config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  const layers: LayerSource[] = [];
  const history: HistoryEntry[] = [];
  for (const st of chain) {
    for (const ins of st.instructions) {
      const text = `${ins.keyword} ${ins.args}`;
      switch (ins.keyword) {
        case 'ENV':
          for (const [k, v] of parsePairs(ins.args, env, ins.line)) env.set(k, v);
          break;
        case 'LABEL':
          for (const [k, v] of parsePairs(ins.args, env, ins.line)) config.Labels[k] = v;
          break;
        case 'WORKDIR': {
          const dir = expand(ins.args, env);
          config.WorkingDir = dir.startsWith('/')
            ? dir
            : `${config.WorkingDir ?? '/'}/${dir}`.replace(/\/+/g, '/');
          break;
        }
        case 'USER':
          config.User = expand(ins.args, env);
          break;
        case 'EXPOSE':
          for (const port of ins.args.split(/\s+/).filter(Boolean)) {
            const p = expand(port, env);
            config.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
          }
          break;
        case 'STOPSIGNAL':
          config.StopSignal = ins.args;
          break;
        case 'ENTRYPOINT':
          config.Entrypoint = jsonArray(ins);
          delete config.Cmd;
          break;
        case 'CMD':
          config.Cmd = jsonArray(ins);
          break;
        case 'COPY': {
          const words = ins.args.split(/\s+/);
          const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
          const other = words.filter((w) => w.startsWith('--') && !w.startsWith('--from='));
          const paths = words.filter((w) => !w.startsWith('--'));
          const src = /^\/out\/([a-z0-9-]+)\/?$/.exec(paths[0] ?? '');
          const buildStage = from === undefined ? undefined : byName.get(from.toLowerCase());
          const service = buildStage && stagedService(buildStage);
          if (!from || other.length > 0 || paths.length !== 2 || paths[1] !== '/' || !src || !service) {
            throw new DockerfileError(
              ins.line,
              'an image stage may only COPY --from=<a stage running scripts/images/stage.sh <service> /out> /out/<part>/ /',
            );
          }
          layers.push({ service, part: src[1] as string, createdBy: text });
          history.push({ createdBy: text, emptyLayer: false });
          continue;
        }
        default:
          throw new DockerfileError(
            ins.line,
            `${ins.keyword} in an image stage: the daemonless build (scripts/images/build.ts) cannot do it; do the work in scripts/images/stage.sh`,
          );
      }
      history.push({ createdBy: text, emptyLayer: true });
    }
  }
  config.Env = [...env].map(([k, v]) => `${k}=${v ?? ''}`);
  return { target, base, config, layers, history };
}

/**
 * Targets that are images: stages no other stage builds FROM or copies from, whose chain starts at a
 * runtime image (`FROM ${RUNTIME_IMAGE}` or `FROM ${PYTHON_RUNTIME_IMAGE}`, the distroless bases). A leaf built on the build image (the `dev`
 * stage, skaffold's development image with the whole workspace) is not a release image.
 */
export function imageTargets(df: Dockerfile): string[] {
  const byName = new Map(df.stages.filter((s) => s.name !== undefined).map((s) => [s.name as string, s]));
  const parents = new Set(df.stages.map((s) => s.from.toLowerCase()));
  const copiedFrom = new Set(
    df.stages.flatMap((s) =>
      s.instructions
        .filter((i) => i.keyword === 'COPY')
        .flatMap((i) => /--from=(\S+)/.exec(i.args)?.[1]?.toLowerCase() ?? []),
    ),
  );
  const rootOf = (name: string): string => {
    const seen = new Set<string>();
    let stage = byName.get(name);
    let from = '';
    while (stage && !seen.has(stage.name as string)) {
      seen.add(stage.name as string);
      from = stage.from;
      stage = byName.get(from.toLowerCase());
    }
    return from;
  };
  return [...byName.keys()].filter(
    (n) => !parents.has(n) && !copiedFrom.has(n) && /^\$\{?(?:PYTHON_)?RUNTIME_IMAGE\}?$/.test(rootOf(n)),
  );
}
