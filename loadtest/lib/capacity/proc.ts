/**
 * CPU time and memory of one process from Linux's /proc, read from outside the process (no help from it, no
 * /metrics scrape that would itself cost it CPU): /proc/<pid>/stat for user and system time (all threads: the
 * event loop, V8's GC helpers, libuv's pool, ONNX Runtime's worker; what a cgroup and so the HPA sees), and
 * /proc/<pid>/status for the resident set (VmRSS) and its peak (VmHWM).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcStat {
  readonly pid: number;
  /** The command name between the parentheses (it may itself hold spaces and parentheses). */
  readonly comm: string;
  readonly state: string;
  /** Field 14, user-mode time, clock ticks. */
  readonly utimeTicks: number;
  /** Field 15, kernel-mode time, clock ticks. */
  readonly stimeTicks: number;
  /** Field 20. */
  readonly threads: number;
  /** Field 24, resident pages. */
  readonly rssPages: number;
}

/**
 * Parses one /proc/<pid>/stat line (proc(5)). The second field is the command name in parentheses and may
 * contain anything, spaces and `)` included, so the fields are counted from the LAST `)`.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const field = (n: number): number => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat: field ${n} is not a number (${rest[n - 3]})`);
    return v;
  };
  if (!Number.isInteger(pid) || rest.length < 22) {
    throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  }
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    utimeTicks: field(14),
    stimeTicks: field(15),
    threads: field(20),
    rssPages: field(24),
  };
}

/** A `Key:   1234 kB` line of /proc/<pid>/status, in kB; null when the key is not there. */
export function statusKb(text: string, key: 'VmRSS' | 'VmHWM' | 'VmSize'): number | null {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
  return m === null ? null : Number(m[1]);
}

let ticks: number | undefined;

/** USER_HZ, the unit of /proc/<pid>/stat's times: `getconf CLK_TCK`, 100 on every Linux seen in practice. */
export function clockTicksPerSecond(): number {
  if (ticks !== undefined) return ticks;
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim());
    ticks = Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    ticks = 100;
  }
  return ticks;
}

/** User + system CPU seconds a process has used since it started. */
export function cpuSecondsOf(stat: ProcStat, hz = clockTicksPerSecond()): number {
  return (stat.utimeTicks + stat.stimeTicks) / hz;
}

export function readCpuSeconds(pid: number): number {
  return cpuSecondsOf(parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')));
}

/**
 * CPU seconds of a process's threads named `name` (their /proc/<pid>/task/<tid>/stat; a Node Worker's
 * `name` option is its thread's name), summed; undefined when no such thread runs. A thread that ended
 * is not counted: read it while the thread lives.
 */
export function readThreadCpuSeconds(pid: number, name: string): number | undefined {
  let total: number | undefined;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  for (const tid of tids) {
    try {
      const stat = parseProcStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      if (stat.comm === name) total = (total ?? 0) + cpuSecondsOf(stat);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total;
}

/**
 * The pid of the Kafka broker `scripts/backing-services.sh` started, when `brokers` is that broker on this
 * machine (every address on loopback): its pid file under ETA_BACKING_DIR (default `<root>/.local/backing`),
 * checked against the process's command line. Undefined otherwise: a remote broker's CPU is not ours to read.
 */
export function localKafkaBrokerPid(
  root: string,
  brokers: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): number | undefined {
  const hosts = brokers.split(',').map((b) => b.trim().replace(/:\d+$/, ''));
  if (!hosts.every((h) => h === '127.0.0.1' || h === 'localhost' || h === '[::1]')) return undefined;
  const dir = env['ETA_BACKING_DIR'] || join(root, '.local', 'backing');
  try {
    const pid = Number(readFileSync(join(dir, 'kafka', 'kafka.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface MemoryFigures {
  readonly rssMb: number | null;
  /** The resident set's peak since start. */
  readonly peakRssMb: number | null;
}

export function readMemory(pid: number): MemoryFigures {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (kb: number | null) => (kb === null ? null : Math.round((kb / 1024) * 10) / 10);
  return { rssMb: mb(statusKb(text, 'VmRSS')), peakRssMb: mb(statusKb(text, 'VmHWM')) };
}

export interface CpuSample {
  /** performance.now() of the read. */
  readonly atMs: number;
  readonly cpuSeconds: number;
}

/**
 * The most CPU (in cores) the process used over any `windowMs` between samples: the busiest second of a
 * step, which at an overload is the ceiling the process reaches. 0 with fewer than two samples that far apart.
 */
export function peakCores(samples: readonly CpuSample[], windowMs = 1000): number {
  let peak = 0;
  let j = 0;
  for (let i = 1; i < samples.length; i++) {
    // The earliest sample at least windowMs before sample i.
    while (j + 1 < i && samples[i]!.atMs - samples[j + 1]!.atMs >= windowMs) j += 1;
    const dt = samples[i]!.atMs - samples[j]!.atMs;
    if (dt < windowMs) continue;
    peak = Math.max(peak, (samples[i]!.cpuSeconds - samples[j]!.cpuSeconds) / (dt / 1000));
  }
  return peak;
}

/** Reads a process's CPU time every `intervalMs` until stopped (a timer that never keeps the bench alive). */
export class CpuSampler {
  readonly #pid: number;
  readonly #samples: CpuSample[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid;
    this.#read();
    this.#timer = setInterval(() => this.#read(), intervalMs);
    this.#timer.unref();
  }

  #read(): void {
    try {
      this.#samples.push({ atMs: performance.now(), cpuSeconds: readCpuSeconds(this.#pid) });
    } catch {
      // The process is gone: the caller finds out from the process itself.
    }
  }

  /** Stops, takes a last sample and returns them all. */
  stop(): readonly CpuSample[] {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#read();
    return this.#samples;
  }
}
