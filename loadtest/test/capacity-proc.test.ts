import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  clockTicksPerSecond,
  cpuSecondsOf,
  localKafkaBrokerPid,
  readThreadCpuSeconds,
  parseProcStat,
  peakCores,
  readCpuSeconds,
  readMemory,
  statusKb,
} from '../lib/capacity/proc.ts';

// A real line (node, 2 threads' worth of fields), with a command name that holds spaces and parentheses.
const STAT =
  '4242 (node (x) y) S 4200 4242 4200 0 -1 4194560 123456 0 12 0 1234 567 0 0 20 0 11 0 2130329 ' +
  '1234567890 45678 18446744073709551615 94060621656064 94060621675945 140732829682880 0 0 0 0 4096 ' +
  '134234626 0 0 0 17 1 0 0 0 0 0';

describe('/proc/<pid>/stat', () => {
  it('reads user and system time, threads and resident pages, counting fields from the last parenthesis', () => {
    const s = parseProcStat(STAT);
    expect(s).toEqual({
      pid: 4242,
      comm: 'node (x) y',
      state: 'S',
      utimeTicks: 1234,
      stimeTicks: 567,
      threads: 11,
      rssPages: 45678,
    });
    expect(cpuSecondsOf(s, 100)).toBeCloseTo(18.01, 10);
    expect(cpuSecondsOf(s, 250)).toBeCloseTo(7.204, 10);
  });

  it('refuses what is not a stat line', () => {
    expect(() => parseProcStat('')).toThrow(/not a \/proc/);
    expect(() => parseProcStat('12 (cut short) S 1 2 3')).toThrow(/not a \/proc/);
    expect(() => parseProcStat(STAT.replace(' 1234 567 ', ' 1234 x ').replace('S 4200', 'S 4200'))).toThrow(
      /field 15/,
    );
  });

  it('reads this very process (Linux): CPU time that only grows, a resident set', () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
    const a = readCpuSeconds(process.pid);
    let x = 0;
    for (let i = 0; i < 1e6; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    const b = readCpuSeconds(process.pid);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThanOrEqual(a);
    const mem = readMemory(process.pid);
    expect(mem.rssMb).toBeGreaterThan(1);
    expect(mem.peakRssMb).toBeGreaterThanOrEqual(mem.rssMb!);
  });
});

describe('/proc/<pid>/status', () => {
  it('reads kB fields, null when absent', () => {
    const text = 'Name:\tnode\nVmHWM:\t  936000 kB\nVmRSS:\t  520123 kB\nThreads:\t11\n';
    expect(statusKb(text, 'VmRSS')).toBe(520_123);
    expect(statusKb(text, 'VmHWM')).toBe(936_000);
    expect(statusKb(text, 'VmSize')).toBeNull();
  });
});

describe('peakCores', () => {
  it('is the busiest window of at least windowMs, in cores', () => {
    // Idle, then 1.5 cores for two seconds, then 0.5.
    const samples = [
      { atMs: 0, cpuSeconds: 10 },
      { atMs: 500, cpuSeconds: 10 },
      { atMs: 1000, cpuSeconds: 10 },
      { atMs: 1500, cpuSeconds: 10.75 },
      { atMs: 2000, cpuSeconds: 11.5 },
      { atMs: 2500, cpuSeconds: 12.25 },
      { atMs: 3000, cpuSeconds: 13 },
      { atMs: 4000, cpuSeconds: 13.5 },
    ];
    expect(peakCores(samples)).toBeCloseTo(1.5, 10);
    // Over three seconds the busiest is 1.0 s .. 4.0 s: 3.5 CPU seconds.
    expect(peakCores(samples, 3000)).toBeCloseTo(3.5 / 3, 10);
  });

  it('is 0 without two samples a window apart', () => {
    expect(peakCores([])).toBe(0);
    expect(peakCores([{ atMs: 0, cpuSeconds: 1 }])).toBe(0);
    expect(
      peakCores([
        { atMs: 0, cpuSeconds: 1 },
        { atMs: 400, cpuSeconds: 2 },
      ]),
    ).toBe(0);
  });
});

describe('readThreadCpuSeconds', () => {
  it("reads a Worker's CPU by the thread name the OS lists it under, and nothing for a name no thread has", async () => {
    // The worker spins until told to stop; the test waits for its CPU to show (a condition, not a clock).
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       let spin = true;
       parentPort.on('message', () => { spin = false; parentPort.close(); });
       (function loop() { const end = Date.now() + 20; while (Date.now() < end); if (spin) setImmediate(loop); })();`,
      { eval: true, name: 'proc-test-spin' },
    );
    try {
      await new Promise<void>((resolve) => worker.once('online', () => resolve()));
      let seconds = readThreadCpuSeconds(process.pid, 'proc-test-spin');
      while (seconds === undefined || seconds < 0.05) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        seconds = readThreadCpuSeconds(process.pid, 'proc-test-spin');
      }
      expect(seconds).toBeGreaterThanOrEqual(0.05);
      expect(readThreadCpuSeconds(process.pid, 'no-such-thread')).toBeUndefined();
      expect(readThreadCpuSeconds(2 ** 22 + 1, 'proc-test-spin')).toBeUndefined();
    } finally {
      worker.postMessage('stop');
      await worker.terminate();
    }
  });
});

describe('localKafkaBrokerPid', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** A backing directory whose kafka.pid names `pid`. */
  const backing = (pid: number | string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'proc-kafka-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'kafka'));
    writeFileSync(join(dir, 'kafka', 'kafka.pid'), `${pid}\n`);
    return dir;
  };
  /** A live process whose command line names kafka.Kafka, as the broker's java command line does. */
  const fakeBroker = (): number => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', 'kafka.Kafka'], {
      stdio: 'ignore',
    });
    children.push(child);
    return child.pid!;
  };

  it("answers the pid file's process when the brokers are on loopback and it is a Kafka broker", () => {
    const pid = fakeBroker();
    const env = { ETA_BACKING_DIR: backing(pid) };
    expect(localKafkaBrokerPid('/nowhere', '127.0.0.1:9092', env)).toBe(pid);
    expect(localKafkaBrokerPid('/nowhere', 'localhost:9092, 127.0.0.1:9093', env)).toBe(pid);
  });

  it('reads the pid file under <root>/.local/backing without ETA_BACKING_DIR', () => {
    const pid = fakeBroker();
    const root = mkdtempSync(join(tmpdir(), 'proc-root-'));
    dirs.push(root);
    mkdirSync(join(root, '.local', 'backing', 'kafka'), { recursive: true });
    writeFileSync(join(root, '.local', 'backing', 'kafka', 'kafka.pid'), String(pid));
    expect(localKafkaBrokerPid(root, '127.0.0.1:9092', {})).toBe(pid);
  });

  it('answers nothing for a remote broker, a process that is not a broker, or no pid file', () => {
    const pid = fakeBroker();
    expect(
      localKafkaBrokerPid('/nowhere', 'kafka.example:9092', { ETA_BACKING_DIR: backing(pid) }),
    ).toBeUndefined();
    expect(
      localKafkaBrokerPid('/nowhere', '127.0.0.1:9092,10.0.0.7:9092', { ETA_BACKING_DIR: backing(pid) }),
    ).toBeUndefined();
    expect(
      localKafkaBrokerPid('/nowhere', '127.0.0.1:9092', { ETA_BACKING_DIR: backing(process.pid) }),
    ).toBeUndefined();
    expect(
      localKafkaBrokerPid('/nowhere', '127.0.0.1:9092', { ETA_BACKING_DIR: backing('garbage') }),
    ).toBeUndefined();
    expect(
      localKafkaBrokerPid('/nowhere', '127.0.0.1:9092', { ETA_BACKING_DIR: '/nowhere' }),
    ).toBeUndefined();
  });
});
