import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ErrorKind } from './errors.ts';
import { judgeResponse, type LoadOptions, type RequestSource } from './generator.ts';
import type { RequestSpec } from './mix.ts';
import type { LoadResult } from './result.ts';
import { Tally, type RunShape } from './tally.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The Go source of the native engine. */
export const LOADGEN_DIR = join(ROOT, 'loadtest', 'loadgen');
const BUILD_DIR = join(ROOT, '.tools', 'loadgen');

/** One request's fate as loadtest/loadgen writes it; times in ms since request 0 was due. */
interface NativeRecord {
  readonly i: number;
  readonly s: number;
  readonly e: number;
  readonly st: number;
  readonly k?: ErrorKind;
  readonly m?: string;
  readonly b?: string;
  readonly h?: Record<string, string>;
}

interface NativeSummary {
  readonly summary: true;
  readonly peakInFlight: number;
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly procs: number;
}

let building: Promise<string> | null = null;

/**
 * Path of the native engine's binary, built with the machine's `go` on first use and kept under
 * .tools/loadgen/<hash of its source>/, so a changed source is rebuilt and an unchanged one never is.
 * Standard library only: the build downloads nothing.
 */
export function nativeBinary(): Promise<string> {
  building ??= build().catch((err: unknown) => {
    building = null;
    throw err;
  });
  return building;
}

async function build(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of readdirSync(LOADGEN_DIR).sort()) {
    if (f.endsWith('.go') || f === 'go.mod') hash.update(f).update(readFileSync(join(LOADGEN_DIR, f)));
  }
  const dir = join(BUILD_DIR, hash.digest('hex').slice(0, 16));
  const bin = join(dir, 'loadgen');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const { code, output } = await exec('go', ['build', '-trimpath', '-o', tmp, '.'], LOADGEN_DIR, {
    // The toolchain named in go.mod is a minimum; never download another one.
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  });
  if (code !== 0) throw new Error(`building the go load engine failed (exit ${code}):\n${output}`);
  renameSync(tmp, bin);
  return bin;
}

function exec(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT' && cmd === 'go'
          ? new Error('the go load engine needs Go on PATH (or run with BENCH_ENGINE=node)')
          : err,
      );
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function specLine(spec: RequestSpec): string {
  const line: { m: string; p: string; h?: [string, string][]; b?: string; b64?: string } = {
    m: spec.method ?? 'GET',
    p: spec.path,
  };
  if (spec.headers !== undefined) line.h = Object.entries(spec.headers);
  if (typeof spec.body === 'string') line.b = spec.body;
  else if (spec.body !== undefined) line.b64 = Buffer.from(spec.body).toString('base64');
  return JSON.stringify(line);
}

/**
 * Runs `shape` with the native engine: every request is built here first (same source and seed as the
 * node engine, so the same data), loadtest/loadgen sends them open-loop and records each one's send and
 * end, and the records are counted here through the same Tally as the node engine's, checks included.
 */
export async function runNative(
  shape: RunShape,
  source: RequestSource,
  check: LoadOptions['check'],
  onRecord?: LoadOptions['onRecord'],
): Promise<LoadResult> {
  const bin = await nativeBinary();
  const dir = await mkdtemp(join(tmpdir(), 'eta-loadgen-'));
  try {
    const entries = new Uint16Array(shape.total);
    const specs: RequestSpec[] = [];
    const lines: string[] = [];
    for (let i = 0; i < shape.total; i++) {
      const { entry, spec } = source.next(i);
      entries[i] = entry;
      specs.push(spec);
      lines.push(specLine(spec));
    }
    const requests = join(dir, 'requests.jsonl');
    const results = join(dir, 'results.jsonl');
    const config = join(dir, 'config.json');
    await writeFile(requests, lines.join('\n') + (lines.length > 0 ? '\n' : ''));
    lines.length = 0;
    await writeFile(
      config,
      JSON.stringify({
        origin: shape.origin,
        rate: shape.rate,
        total: shape.total,
        warmup: shape.warmupCount,
        timeoutMs: shape.timeoutMs,
        connections: shape.connections,
        spread: shape.spread,
        maxInFlight: shape.maxInFlight,
        wantBody: check !== undefined,
        requests,
        results,
        procs: Number(process.env.BENCH_GO_PROCS ?? 0),
      }),
    );
    const startedAt = new Date().toISOString();
    const { code, output } = await exec(bin, ['-config', config], dir);
    if (code !== 0) throw new Error(`go load engine failed (exit ${code}):\n${output}`);

    const tally = new Tally(shape);
    const interval = 1000 / shape.rate;
    let summary: NativeSummary | null = null;
    const rl = createInterface({ input: createReadStream(results), crlfDelay: Infinity });
    for await (const line of rl) {
      if (line === '') continue;
      const rec = JSON.parse(line) as NativeRecord | NativeSummary;
      if ('summary' in rec) {
        summary = rec;
        continue;
      }
      if (rec.i < shape.warmupCount) continue;
      const entry = entries[rec.i]!;
      const scheduledAt = rec.i * interval;
      tally.due(entry, rec.s - scheduledAt);
      const settle = (kind: ErrorKind | null, message: string) => {
        tally.settle(entry, scheduledAt, rec.s, rec.e, kind, message);
        onRecord?.({
          scheduledMs: scheduledAt - shape.warmupCount * interval,
          latencyMs: rec.e - scheduledAt,
          status: rec.st ?? 0,
          kind,
        });
      };
      if (rec.k === 'dropped_inflight_cap') {
        settle(rec.k, rec.m ?? '');
        continue;
      }
      tally.sent();
      if (rec.k !== undefined) {
        settle(rec.k, rec.m ?? rec.k);
        continue;
      }
      tally.completed();
      const failed = judgeResponse(rec.st, rec.e - rec.s, specs[rec.i]!, shape.timeoutMs, check, () => ({
        status: rec.st,
        headers: rec.h ?? {},
        body: rec.b ?? '',
      }));
      settle(failed?.kind ?? null, failed?.message ?? '');
    }
    if (summary === null) throw new Error('go load engine wrote no summary');
    // Debugging aid: keep every request's record (send, end, status) to look at a run's timeline.
    const keep = process.env.BENCH_KEEP_RECORDS;
    if (keep !== undefined && keep !== '') {
      mkdirSync(keep, { recursive: true });
      await copyFile(results, join(keep, `${startedAt.replaceAll(':', '-')}-${shape.label ?? 'run'}.jsonl`));
    }
    return tally.result({
      startedAt,
      t0: 0,
      peakInFlight: summary.peakInFlight,
      busy: summary.wallMs > 0 ? summary.cpuMs / summary.wallMs : 0,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
