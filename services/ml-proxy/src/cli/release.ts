/**
 * pnpm model: what a model serves, and promotion and rollback, through `<repository>/<model>/release.json`
 * (domain/release.ts). The proxies re-read that file with every repository scan, so a change here reaches
 * every pod within MODEL_POLL_INTERVAL_SECONDS, without a restart and without a failed request.
 *
 *   pnpm model status   --model eta-precise [--repository DIR] [--proxy URL]... [--json]
 *   pnpm model promote  --model eta-precise --by WHO --reason WHY [--repository DIR]
 *                       --proxy URL... --rows postgres://... [--rows-table T] [--to V] [--force] [--wait]
 *   pnpm model rollback --model eta-precise --by WHO --reason WHY [--repository DIR] [--to V] [--proxy URL]... [--wait]
 *
 * stdout: status, or one JSON line per change made (for the audit log); stderr: what was done or refused,
 * and why. Exit codes are stable (EXIT below); a refusal is a message, never a stack trace.
 */
import { parseArgs } from 'node:util';
import { samples, sumSamples } from '@eta/service-kit';
import { createFsModelSource } from '../adapters/fs-repository.ts';
import { createOnnxLoader } from '../adapters/onnx.ts';
import { fetchServing, fetchText } from '../adapters/proxies.ts';
import { ReleaseChangedError, readReleaseText, writeReleaseAtomically } from '../adapters/release-file.ts';
import { quoteTable, readTrainingRows } from '../adapters/training-rows.ts';
import { DEFAULT_MODEL_REPOSITORY } from '../config.ts';
import { budgetOf, type InferenceBackend, type ModelSignature } from '../domain/model.ts';
import {
  type Accuracy,
  accuracyOf,
  DEFAULT_MIN_COMPARISONS,
  DEFAULT_MIN_ROWS,
  evaluatePromotion,
  type ShadowFigures,
  tensorsFor,
} from '../domain/promotion.ts';
import { compareVersions, loadCheckedVersion, type ModelSource } from '../domain/registry.ts';
import {
  parseRelease,
  previousServing,
  promoted,
  publishedAt,
  type ReleaseFile,
  ReleaseVersion,
  rolledBack,
} from '../domain/release.ts';
import { METRICS } from '../http/metrics.ts';

/** Exit codes: scripts and runbooks may rely on them. */
export const EXIT = {
  /** Done (or status printed). */
  OK: 0,
  /** Something unexpected; the message says what. */
  FAILED: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** The promotion rule refused (too few comparisons, shadow errors, too few rows, a worse candidate). */
  RULE: 3,
  /**
   * The release does not allow it: no release.json or a malformed one, no candidate, nothing to roll back
   * to, a version missing or failing its golden check, release.json changed meanwhile. Nothing written.
   */
  STATE: 4,
  /** A proxy's /metrics or the training rows could not be read. Nothing written. */
  UNREACHABLE: 5,
  /** Written, but with --wait not every proxy served the new version in time. */
  NOT_PICKED_UP: 6,
} as const;

const USAGE = `usage: pnpm model <status|promote|rollback> --model NAME [options]
  --model            the model (e.g. eta-precise)
  --repository       the model repository (default: $MODEL_REPOSITORY, else ml/models)
  --by, --reason     who and why (promote, rollback): recorded in release.json's history
  --proxy URL        a running ML proxy (repeat for every pod): shadow comparisons, what it serves
  --rows URL         postgres://... holding the training rows (promote)
  --rows-table T     the training rows table, or schema.table (default training_rows)
  --max-rows N       delivered orders read at most (default 100000)
  --min-comparisons  shadow comparisons the promotion needs (default ${DEFAULT_MIN_COMPARISONS})
  --min-rows         delivered orders the promotion needs (default ${DEFAULT_MIN_ROWS})
  --to V             rollback: the version to serve (default: the one before, from the history);
                     promote: the candidate you expect (refused when release.json names another)
  --force            promote without the rule (recorded as forced, with whatever figures were read)
  --wait             after writing, wait until every --proxy serves the new version (--wait-seconds, 120)
  --json             status as JSON
exit: 0 done, 2 usage, 3 rule refused, 4 state refused, 5 source unreachable, 6 not picked up in time, 1 other`;

export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const PROCESS_IO: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

/** A refusal with its exit code; main prints the message only. */
class Refusal extends Error {
  readonly exit: number;
  constructor(exit: number, message: string) {
    super(message);
    this.exit = exit;
  }
}

const PROXY_TIMEOUT_MS = 5000;
const ROWS_TIMEOUT_MS = 30_000;
const SCORE_BATCH = 1000;

interface Options {
  readonly command: 'status' | 'promote' | 'rollback';
  readonly model: string;
  readonly repository: string;
  readonly by: string | undefined;
  readonly reason: string | undefined;
  readonly to: string | undefined;
  readonly force: boolean;
  readonly proxies: string[];
  readonly rows: string | undefined;
  readonly rowsTable: string;
  readonly maxRows: number;
  readonly minComparisons: number;
  readonly minRows: number;
  readonly wait: boolean;
  readonly waitSeconds: number;
  readonly json: boolean;
}

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.filter((a) => a !== '--'),
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string' },
        repository: { type: 'string' },
        by: { type: 'string' },
        reason: { type: 'string' },
        to: { type: 'string' },
        force: { type: 'boolean' },
        proxy: { type: 'string', multiple: true },
        rows: { type: 'string' },
        'rows-table': { type: 'string' },
        'max-rows': { type: 'string' },
        'min-comparisons': { type: 'string' },
        'min-rows': { type: 'string' },
        wait: { type: 'boolean' },
        'wait-seconds': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new Refusal(EXIT.USAGE, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new Refusal(EXIT.OK, '');
  const command = positionals[0];
  if (command !== 'status' && command !== 'promote' && command !== 'rollback') {
    throw new Refusal(
      EXIT.USAGE,
      `expected a command: status, promote or rollback (got ${command ?? 'none'})`,
    );
  }
  if (positionals.length > 1) throw new Refusal(EXIT.USAGE, `unexpected argument ${positionals[1]}`);
  const model = values.model;
  if (model === undefined || !/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(model)) {
    throw new Refusal(EXIT.USAGE, '--model is required: a model name such as eta-precise');
  }
  const text = (v: string | undefined, flag: string): string | undefined => {
    if (v !== undefined && v.trim() === '') throw new Refusal(EXIT.USAGE, `${flag} must not be empty`);
    return v?.trim();
  };
  const by = text(values.by, '--by');
  const reason = text(values.reason, '--reason');
  if (command !== 'status') {
    if (by === undefined) throw new Refusal(EXIT.USAGE, `${command} needs --by (who does it)`);
    if (reason === undefined) throw new Refusal(EXIT.USAGE, `${command} needs --reason (why)`);
  }
  const to = values.to;
  if (to !== undefined && !ReleaseVersion.safeParse(to).success) {
    throw new Refusal(EXIT.USAGE, `--to ${to}: expected a version number such as 2`);
  }
  if (values.force && command !== 'promote') throw new Refusal(EXIT.USAGE, '--force is for promote only');
  const proxies = (values.proxy ?? []).map((p) => {
    let url: URL;
    try {
      url = new URL(p);
    } catch {
      throw new Refusal(EXIT.USAGE, `--proxy ${p}: expected a URL such as http://10.0.0.7:8082`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Refusal(EXIT.USAGE, `--proxy ${p}: expected an http(s) URL`);
    }
    return url.origin;
  });
  if (values.rows !== undefined && !/^postgres(ql)?:\/\//.test(values.rows)) {
    throw new Refusal(EXIT.USAGE, '--rows: expected a postgres:// URL');
  }
  const rowsTable = values['rows-table'] ?? 'training_rows';
  try {
    quoteTable(rowsTable);
  } catch (err) {
    throw new Refusal(EXIT.USAGE, `--rows-table: ${(err as Error).message}`);
  }
  const int = (v: string | undefined, flag: string, fallback: number, min: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new Refusal(EXIT.USAGE, `${flag} ${v}: expected an integer >= ${min}`);
    return n;
  };
  if (values.wait && proxies.length === 0) throw new Refusal(EXIT.USAGE, '--wait needs at least one --proxy');
  return {
    command,
    model,
    repository: values.repository ?? env['MODEL_REPOSITORY'] ?? DEFAULT_MODEL_REPOSITORY,
    by,
    reason,
    to,
    force: values.force ?? false,
    proxies,
    rows: values.rows,
    rowsTable,
    maxRows: int(values['max-rows'], '--max-rows', 100_000, 1),
    minComparisons: int(values['min-comparisons'], '--min-comparisons', DEFAULT_MIN_COMPARISONS, 0),
    minRows: int(values['min-rows'], '--min-rows', DEFAULT_MIN_ROWS, 1),
    wait: values.wait ?? false,
    waitSeconds: int(values['wait-seconds'], '--wait-seconds', 120, 1),
    json: values.json ?? false,
  };
}

/** release.json as it is now: its text (to detect a concurrent writer) and content. */
async function currentRelease(
  opts: Options,
): Promise<{ text: string | undefined; release: ReleaseFile | undefined }> {
  let text: string | undefined;
  try {
    text = await readReleaseText(opts.repository, opts.model);
  } catch (err) {
    throw new Refusal(EXIT.STATE, `release.json of ${opts.model} cannot be read: ${(err as Error).message}`);
  }
  if (text === undefined) return { text, release: undefined };
  try {
    return { text, release: parseRelease(text) };
  } catch (err) {
    throw new Refusal(
      EXIT.STATE,
      `${opts.repository}/${opts.model}/release.json is malformed (the proxies keep the last good one): ${(err as Error).message}`,
    );
  }
}

/** The repository's versions of the model, oldest first. */
async function versionsOf(source: ModelSource, model: string): Promise<string[]> {
  return (await source.listVersions(model)).map((l) => l.version).sort(compareVersions);
}

/** What unpinned calls get by the release alone: its serving, else the newest version that is not the candidate. */
function servingOf(release: ReleaseFile | undefined, versions: readonly string[]): string | undefined {
  if (release?.serving !== undefined) return release.serving;
  return [...versions].reverse().find((v) => v !== release?.candidate);
}

const offlineLoader = () => createOnnxLoader({ intraOpThreads: 1, execution: 'inline' });

/** Loads a version as the proxy would (SHA-256, golden check); a STATE refusal when it must not serve. */
async function checkedVersion(
  source: ModelSource,
  model: string,
  version: string,
  versions: readonly string[],
  what: string,
): Promise<{ backend: InferenceBackend; signature: ModelSignature; metadata: unknown }> {
  if (!versions.includes(version)) {
    throw new Refusal(
      EXIT.STATE,
      `${what} ${version} of ${model} is not in the repository (it has ${versions.join(', ') || 'none'})`,
    );
  }
  try {
    return await loadCheckedVersion({ source, loader: offlineLoader(), model, version, requireGolden: true });
  } catch (err) {
    throw new Refusal(
      EXIT.STATE,
      `${what} ${version} of ${model} fails its checks: ${(err as Error).message}`,
    );
  }
}

/** p10, p50, p90 of every row, in batches, through the proxy's own ONNX backend. */
async function score(
  backend: InferenceBackend,
  signature: ModelSignature,
  input: Float32Array,
  rows: number,
): Promise<{ p10: Float64Array; p50: Float64Array; p90: Float64Array }> {
  const width = signature.features.length;
  const out = { p10: new Float64Array(rows), p50: new Float64Array(rows), p90: new Float64Array(rows) };
  for (let start = 0; start < rows; start += SCORE_BATCH) {
    const n = Math.min(SCORE_BATCH, rows - start);
    const result = await backend.infer(
      input.subarray(start * width, (start + n) * width),
      n,
      ['p10', 'p50', 'p90'],
      budgetOf(60_000),
    );
    for (const name of ['p10', 'p50', 'p90'] as const) {
      const values = result[name];
      if (values === undefined || values.length !== n) throw new Error(`the model answered no ${name}`);
      out[name].set(Array.from(values), start);
    }
  }
  return out;
}

/** Shadow comparisons and errors of `candidate`, summed over the proxies' /metrics. */
async function shadowFigures(opts: Options, candidate: string): Promise<ShadowFigures> {
  let comparisons = 0;
  let shadowErrors = 0;
  for (const origin of opts.proxies) {
    let text: string;
    try {
      text = await fetchText(`${origin}/metrics`, PROXY_TIMEOUT_MS);
    } catch (err) {
      throw new Refusal(
        EXIT.UNREACHABLE,
        `proxy ${origin}: /metrics could not be read: ${(err as Error).message}`,
      );
    }
    const labels = { model: opts.model, version: candidate };
    comparisons += sumSamples(text, METRICS.shadowComparisons, labels);
    shadowErrors += sumSamples(text, METRICS.shadowErrors, labels);
  }
  return { proxies: opts.proxies, comparisons, shadowErrors };
}

/** When the candidate was published: its publish entry, else its metadata's `created`. */
function publishTime(release: ReleaseFile, candidate: string, metadata: unknown): string | undefined {
  const at = publishedAt(release, candidate);
  if (at !== undefined) return at;
  const created = (metadata as { created?: unknown } | null)?.created;
  return typeof created === 'string' && !Number.isNaN(Date.parse(created)) ? created : undefined;
}

const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

async function promote(opts: Options, io: Io): Promise<number> {
  const { text, release } = await currentRelease(opts);
  if (release === undefined) {
    throw new Refusal(
      EXIT.STATE,
      `${opts.model} has no release.json, so no candidate to promote (the retrain job writes one when it publishes)`,
    );
  }
  const candidate = release.candidate;
  if (candidate === undefined)
    throw new Refusal(EXIT.STATE, `release.json of ${opts.model} names no candidate`);
  if (opts.to !== undefined && opts.to !== candidate) {
    throw new Refusal(EXIT.STATE, `the candidate of ${opts.model} is ${candidate}, not ${opts.to}`);
  }
  const source = createFsModelSource(opts.repository);
  const versions = await versionsOf(source, opts.model);
  const from = servingOf(release, versions);
  const backends: InferenceBackend[] = [];
  try {
    const cand = await checkedVersion(source, opts.model, candidate, versions, 'candidate');
    backends.push(cand.backend);

    const shadow = opts.proxies.length > 0 ? await shadowFigures(opts, candidate) : undefined;

    let accuracy: { since: string; serving: Accuracy; candidate: Accuracy } | undefined;
    const extra: string[] = [];
    if (opts.rows !== undefined) {
      const since = publishTime(release, candidate, cand.metadata);
      if (since === undefined) {
        extra.push(
          `cannot tell when candidate ${candidate} was published (no publish entry, no metadata.created)`,
        );
      } else if (from === undefined) {
        extra.push('no serving version to compare with');
      } else {
        let serving;
        try {
          serving = await checkedVersion(source, opts.model, from, versions, 'serving version');
          backends.push(serving.backend);
        } catch (err) {
          if (!(err instanceof Refusal)) throw err;
          extra.push(err.message);
        }
        if (serving) {
          let rows;
          try {
            rows = await readTrainingRows({
              url: opts.rows,
              table: opts.rowsTable,
              model: opts.model,
              writtenAfter: since,
              limit: opts.maxRows,
              timeoutMs: ROWS_TIMEOUT_MS,
            });
          } catch (err) {
            throw new Refusal(EXIT.UNREACHABLE, `training rows could not be read: ${(err as Error).message}`);
          }
          const t = tensorsFor(rows, [serving.signature, cand.signature]);
          const n = t.actual.length;
          const s = await score(serving.backend, serving.signature, t.inputs[0]!, n);
          const c = await score(cand.backend, cand.signature, t.inputs[1]!, n);
          accuracy = {
            since,
            serving: accuracyOf(from, t.actual, s.p10, s.p50, s.p90),
            candidate: accuracyOf(candidate, t.actual, c.p10, c.p50, c.p90),
          };
          if (t.skipped > 0)
            io.err(`model: ${t.skipped} row(s) left out: a feature neither version can take\n`);
        }
      }
    }

    const rule = evaluatePromotion({
      minComparisons: opts.minComparisons,
      minRows: opts.minRows,
      shadow,
      accuracy,
    });
    const refusals = [...extra, ...rule.refusals];
    const figures = refusals.length > 0 && opts.force ? { ...rule.figures, refusals } : rule.figures;
    io.err(describeFigures(figures));
    if (refusals.length > 0 && !opts.force) {
      throw new Refusal(
        EXIT.RULE,
        `promotion of ${opts.model} ${candidate} refused:\n${refusals.map((r) => `  - ${r}`).join('\n')}\n` +
          '(nothing written; --force promotes anyway and records it as forced)',
      );
    }
    const next = promoted(release, from, {
      at: nowIso(),
      by: opts.by!,
      reason: opts.reason!,
      forced: opts.force,
      rule: figures,
    });
    await write(opts, next, text);
    const entry = next.history.at(-1)!;
    io.out(
      `${JSON.stringify({ msg: 'model release changed', model: opts.model, repository: opts.repository, serving: next.serving, candidate: null, ...entry })}\n`,
    );
    io.err(
      `model: ${opts.model} ${candidate} promoted (was ${from ?? 'none'})${opts.force ? ', forced' : ''}; ` +
        'proxies follow at their next repository scan\n',
    );
    return opts.wait ? await waitFor(opts, candidate, io) : EXIT.OK;
  } finally {
    await Promise.all(backends.map((b) => b.close().catch(() => undefined)));
  }
}

async function rollback(opts: Options, io: Io): Promise<number> {
  const { text, release } = await currentRelease(opts);
  const base: ReleaseFile = release ?? { history: [] };
  const source = createFsModelSource(opts.repository);
  const versions = await versionsOf(source, opts.model);
  const from = servingOf(release, versions);
  const to = opts.to ?? (from === undefined ? undefined : previousServing(base, from));
  if (to === undefined) {
    throw new Refusal(
      EXIT.STATE,
      `the history of ${opts.model} does not say what served before ${from ?? 'now'}; name the version with --to`,
    );
  }
  if (to === from) throw new Refusal(EXIT.STATE, `${opts.model} ${to} is already serving`);
  if (to === base.candidate) {
    throw new Refusal(EXIT.STATE, `${opts.model} ${to} is the candidate: promote it instead`);
  }
  const checked = await checkedVersion(source, opts.model, to, versions, 'version');
  await checked.backend.close().catch(() => undefined);
  const next = rolledBack(base, from, to, { at: nowIso(), by: opts.by!, reason: opts.reason! });
  await write(opts, next, text);
  const entry = next.history.at(-1)!;
  io.out(
    `${JSON.stringify({ msg: 'model release changed', model: opts.model, repository: opts.repository, serving: next.serving, candidate: next.candidate ?? null, ...entry })}\n`,
  );
  io.err(
    `model: ${opts.model} rolled back to ${to} (was ${from ?? 'none'}); proxies follow at their next repository scan\n`,
  );
  return opts.wait ? await waitFor(opts, to, io) : EXIT.OK;
}

async function write(opts: Options, next: ReleaseFile, basedOn: string | undefined): Promise<void> {
  try {
    await writeReleaseAtomically(opts.repository, opts.model, next, basedOn);
  } catch (err) {
    if (err instanceof ReleaseChangedError) {
      throw new Refusal(EXIT.STATE, `${err.message}; nothing written: run the command again`);
    }
    throw new Refusal(EXIT.FAILED, `release.json could not be written: ${(err as Error).message}`);
  }
}

/** Polls every proxy's metadata until it serves `version`; a proxy pinned by MODEL_SETTINGS is reported, not waited for. */
async function waitFor(opts: Options, version: string, io: Io): Promise<number> {
  const deadline = Date.now() + opts.waitSeconds * 1000;
  const pending = new Set(opts.proxies);
  while (pending.size > 0) {
    for (const origin of [...pending]) {
      try {
        const s = await fetchServing(origin, opts.model, PROXY_TIMEOUT_MS);
        if (s.serving === version) {
          pending.delete(origin);
          io.err(`model: ${origin} serves ${opts.model} ${version}\n`);
        } else if (s.servingFrom === 'settings') {
          pending.delete(origin);
          io.err(
            `model: ${origin} serves ${s.serving} because its MODEL_SETTINGS defaultVersion overrides release.json\n`,
          );
        }
      } catch {
        // Unreachable for now (a restarting pod): asked again until the deadline.
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      io.err(`model: not serving ${version} after ${opts.waitSeconds} s: ${[...pending].join(', ')}\n`);
      return EXIT.NOT_PICKED_UP;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return EXIT.OK;
}

function describeFigures(f: ReturnType<typeof evaluatePromotion>['figures']): string {
  const lines: string[] = [];
  if (f.comparisons !== undefined) {
    lines.push(
      `shadow: ${f.comparisons} comparisons (need ${f.minComparisons}), ${f.shadowErrors} errors, from ${f.proxies?.length ?? 0} proxies`,
    );
  }
  if (f.serving && f.candidate) {
    lines.push(
      `accuracy on ${f.rows} delivered orders since ${f.since} (need ${f.minRows}): ` +
        `MAE ${f.candidate.mae} (candidate ${f.candidate.version}) vs ${f.serving.mae} (serving ${f.serving.version}), ` +
        `p10-p90 coverage ${f.candidate.coverage} vs ${f.serving.coverage}`,
    );
  }
  return lines.map((l) => `model: ${l}\n`).join('');
}

async function status(opts: Options, io: Io): Promise<number> {
  const { release } = await currentRelease(opts);
  const source = createFsModelSource(opts.repository);
  const versions = await versionsOf(source, opts.model);
  const serving = servingOf(release, versions);
  let exit: number = EXIT.OK;
  const proxies: Record<string, unknown>[] = [];
  for (const origin of opts.proxies) {
    try {
      const s = await fetchServing(origin, opts.model, PROXY_TIMEOUT_MS);
      const metrics = await fetchText(`${origin}/metrics`, PROXY_TIMEOUT_MS);
      const shadowed = samples(metrics, METRICS.shadowComparisons)
        .filter((x) => x.labels['model'] === opts.model)
        .map((x) => ({
          version: x.labels['version'],
          comparisons: x.value,
          errors: sumSamples(metrics, METRICS.shadowErrors, {
            model: opts.model,
            version: x.labels['version'] ?? '',
          }),
        }));
      proxies.push({ proxy: origin, ...s, shadow: shadowed });
    } catch (err) {
      proxies.push({ proxy: origin, error: (err as Error).message });
      exit = EXIT.UNREACHABLE;
    }
  }
  const report = {
    model: opts.model,
    repository: opts.repository,
    versions,
    release: release === undefined ? null : 'release.json',
    serving: serving ?? null,
    candidate: release?.candidate ?? null,
    history: release?.history ?? [],
    proxies,
  };
  if (opts.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return exit;
  }
  const lines = [
    `model      ${opts.model} (${opts.repository})`,
    `versions   ${versions.join(', ') || 'none'}`,
    `serving    ${serving ?? 'none'}${release?.serving === undefined ? ' (newest: release.json names no serving version)' : ''}`,
    `candidate  ${release?.candidate ?? 'none'}`,
    release === undefined
      ? 'history    none (no release.json)'
      : `history    ${release.history.length} entries`,
    ...(release?.history ?? []).map(
      (e) =>
        `  ${e.at}  ${e.action.padEnd(8)} ${e.version}${e.from === undefined ? '' : ` (from ${e.from})`}  by ${e.by}` +
        `${e.forced ? '  FORCED' : ''}: ${e.reason}`,
    ),
    ...proxies.map((p) =>
      'error' in p
        ? `proxy      ${String(p['proxy'])}: unreachable (${String(p['error'])})`
        : `proxy      ${String(p['proxy'])}: serving ${String(p['serving'])} (${String(p['servingFrom'])}), candidate ${String(p['candidate'] ?? 'none')}, shadow ${JSON.stringify(p['shadow'])}`,
    ),
  ];
  io.out(`${lines.join('\n')}\n`);
  return exit;
}

export async function main(argv: readonly string[], io: Io = PROCESS_IO, env = process.env): Promise<number> {
  try {
    const opts = parseOptions(argv, env);
    if (opts.command === 'status') return await status(opts, io);
    if (opts.command === 'promote') return await promote(opts, io);
    return await rollback(opts, io);
  } catch (err) {
    if (err instanceof Refusal) {
      if (err.exit === EXIT.OK) {
        io.out(`${USAGE}\n`);
        return EXIT.OK;
      }
      io.err(`model: ${err.message}\n`);
      if (err.exit === EXIT.USAGE) io.err(`${USAGE}\n`);
      return err.exit;
    }
    // Never a stack trace: the message is what an operator can act on.
    io.err(`model: failed: ${(err as Error).message ?? String(err)}\n`);
    return EXIT.FAILED;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
