import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { defaultEngine } from './generator.ts';
import os from 'node:os';

export interface MachineInfo {
  readonly hostname: string;
  readonly cpuModel: string;
  readonly cores: number;
  /** CPUs this process may use (affinity), which can be fewer than `cores` in a container. */
  readonly availableParallelism: number;
  /** CPU quota of the container's cgroup in cores, or null when unlimited or unknown. */
  readonly cgroupCpuLimit: number | null;
  readonly memoryTotalMb: number;
  readonly memoryFreeMb: number;
  readonly node: string;
  readonly os: string;
  readonly arch: string;
  /** 1, 5 and 15 minute load averages. */
  readonly loadAverage: readonly [number, number, number];
  /** What sends the load by default: `go (go1.26.8)` or `node (undici)`. */
  readonly loadEngine: string;
}

/** Describes the machine a benchmark ran on: a figure without it cannot be compared with anything. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
  const round2 = (n: number) => Math.round(n * 100) / 100;
  return {
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    cgroupCpuLimit: cgroupCpuLimit(),
    memoryTotalMb: Math.round(os.totalmem() / 2 ** 20),
    memoryFreeMb: Math.round(os.freemem() / 2 ** 20),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    loadAverage: [round2(l1), round2(l5), round2(l15)],
    loadEngine: loadEngine(),
  };
}

function loadEngine(): string {
  let engine: string;
  try {
    engine = defaultEngine();
  } catch (err) {
    return `invalid (${(err as Error).message})`;
  }
  if (engine === 'node') return 'node (undici)';
  try {
    const v = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', timeout: 10_000 }).trim();
    return `go (${v})`;
  } catch {
    return 'go (not found on PATH)';
  }
}

function cgroupCpuLimit(): number | null {
  try {
    // cgroup v2: "<quota> <period>" or "max <period>".
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (quota === undefined || period === undefined || quota === 'max') return null;
    return Math.round((Number(quota) / Number(period)) * 100) / 100;
  } catch {
    return null;
  }
}

export function formatMachineInfo(m: MachineInfo): string {
  const limit = m.cgroupCpuLimit === null ? '' : `, cgroup limit ${m.cgroupCpuLimit} cores`;
  return [
    `machine: ${m.cpuModel}, ${m.cores} cores (${m.availableParallelism} usable${limit}), ` +
      `${m.memoryTotalMb} MB RAM (${m.memoryFreeMb} MB free)`,
    `         ${m.os} ${m.arch}, node ${m.node}, load average ${m.loadAverage.join(' / ')}`,
    `         load generator engine: ${m.loadEngine}`,
  ].join('\n');
}

/**
 * Returns a warning when the 1-minute load average says other work is running: on a busy machine
 * the benchmark measures the neighbours as much as the code. Threshold: a quarter of the usable
 * cores, but at least 0.5 (an idle Linux box hovers around 0-0.3).
 */
export function busyThreshold(m: Pick<MachineInfo, 'availableParallelism'>): number {
  return Math.max(0.5, m.availableParallelism * 0.25);
}

export function busyMachineWarning(m: MachineInfo): string | null {
  const threshold = busyThreshold(m);
  const l1 = m.loadAverage[0];
  if (l1 <= threshold) return null;
  return (
    `the 1-minute load average is ${l1} on ${m.availableParallelism} usable cores (threshold ${threshold}): ` +
    `other work is running, so these figures are only a sanity check, not a benchmark`
  );
}

export interface SettleOptions {
  /** Longest wait, ms. */
  readonly maxMs: number;
  /** Between two looks at the load average, ms. Default 5,000. */
  readonly pollMs?: number;
  readonly threshold: number;
  /** The 1-minute load average now. Default: os.loadavg()[0]. */
  readonly load?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/**
 * Waits until the 1-minute load average is at most `threshold`, or `maxMs` passed. The load average
 * decays with a one-minute time constant, so a benchmark started right after another (or after a test
 * run) reads 1.5-2.5 here for a minute or two although nothing runs any more; waiting it out lets the
 * busy-machine warning mean other work. Answers how long it waited and the last load read.
 */
export async function settle(
  opts: SettleOptions,
): Promise<{ waitedMs: number; load: number; settled: boolean }> {
  const load = opts.load ?? (() => os.loadavg()[0] ?? 0);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? (() => performance.now());
  const pollMs = opts.pollMs ?? 5_000;
  const t0 = now();
  let l1 = load();
  while (l1 > opts.threshold && now() - t0 < opts.maxMs) {
    await sleep(Math.min(pollMs, Math.max(0, opts.maxMs - (now() - t0))));
    l1 = load();
  }
  return { waitedMs: Math.round(now() - t0), load: l1, settled: l1 <= opts.threshold };
}
