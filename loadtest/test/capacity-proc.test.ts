import { describe, expect, it } from 'vitest';
import {
  clockTicksPerSecond,
  cpuSecondsOf,
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
