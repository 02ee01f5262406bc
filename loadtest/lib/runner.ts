import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  busyMachineWarning,
  busyThreshold,
  formatMachineInfo,
  machineInfo,
  settle,
  type MachineInfo,
} from './machine.ts';
import { SkipScenario, type ScenarioModule } from './scenario.ts';
import { printTable } from './table.ts';

export const SCENARIO_SUFFIX = '.bench.ts';

export interface ScenarioOutcome {
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly seconds: number;
  /** What the scenario's run() returned. */
  readonly figures?: unknown;
  /** Why it was skipped, or the failure's stack. */
  readonly reason?: string;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly quick: boolean;
  readonly machine: MachineInfo;
  readonly busyMachineWarning: string | null;
  readonly scenarios: Readonly<Record<string, ScenarioOutcome>>;
}

export interface BenchOptions {
  readonly scenariosDir: string;
  /** Where `<timestamp>.json` is written. */
  readonly resultsDir: string;
  /** Repository root, handed to scenarios. */
  readonly root: string;
  /** Scenario names to run, in this order; empty runs all of them, sorted by name. */
  readonly names: readonly string[];
  readonly quick: boolean;
  readonly out?: (line: string) => void;
  /** Tests pass a fixed one; otherwise the current machine. */
  readonly machine?: MachineInfo;
  /**
   * Longest wait for the 1-minute load average to fall under the busy threshold before the machine is
   * described and the first scenario starts (BENCH_SETTLE_SECONDS; default 0 here, bench.ts's 150 s).
   * Not with `quick`.
   */
  readonly settleMs?: number;
}

export class UnknownScenarioError extends Error {
  constructor(unknown: readonly string[], available: readonly string[]) {
    super(`unknown scenario: ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}`);
    this.name = 'UnknownScenarioError';
  }
}

/** Scenario names in a folder: `<name>.bench.ts` files, sorted. */
export function listScenarios(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(SCENARIO_SUFFIX))
    .map((f) => f.slice(0, -SCENARIO_SUFFIX.length))
    .sort();
}

/**
 * Runs scenarios one after another (never together: each would steal CPU from the other's figures),
 * after printing the machine once. A scenario that throws SkipScenario is reported as skipped, one
 * that throws anything else as failed; neither stops the others. Returns the report and the path of
 * the JSON file it was written to.
 */
export async function runBench(opts: BenchOptions): Promise<{ report: BenchReport; file: string }> {
  const out = opts.out ?? console.log;
  const available = listScenarios(opts.scenariosDir);
  const unknown = opts.names.filter((n) => !available.includes(n));
  if (unknown.length > 0) throw new UnknownScenarioError(unknown, available);
  const selected = opts.names.length > 0 ? opts.names : available;

  const settleMs = opts.quick || opts.machine !== undefined ? 0 : (opts.settleMs ?? 0);
  if (settleMs > 0) {
    // Only the core count: machineInfo() also runs `go env` to name the load generator.
    const threshold = busyThreshold({ availableParallelism: availableParallelism() });
    const s = await settle({ maxMs: settleMs, threshold });
    if (s.waitedMs > 0) {
      out(
        `waited ${Math.round(s.waitedMs / 1000)} s for the 1-minute load average to fall to ${threshold}` +
          (s.settled ? ` (${s.load})` : `; still ${s.load} after the ${settleMs / 1000} s allowed`),
      );
    }
  }
  const machine = opts.machine ?? machineInfo();
  out(formatMachineInfo(machine));
  const busy = busyMachineWarning(machine);
  if (busy !== null) out(`WARNING: ${busy}`);
  if (opts.quick) out('BENCH_QUICK: short runs, a check that the scenarios work, not a measurement');

  const startedAt = new Date();
  const scenarios: Record<string, ScenarioOutcome> = {};
  for (const name of selected) {
    out(`\n=== ${name} ===`);
    const t0 = performance.now();
    const seconds = () => Math.round(performance.now() - t0) / 1000;
    try {
      const url = pathToFileURL(join(opts.scenariosDir, name + SCENARIO_SUFFIX)).href;
      const mod = (await import(url)) as Partial<ScenarioModule>;
      if (typeof mod.run !== 'function')
        throw new Error(`${name}${SCENARIO_SUFFIX} does not export run(opts)`);
      const figures = await mod.run({ quick: opts.quick, machine, root: opts.root });
      scenarios[name] = { status: 'ok', seconds: seconds(), figures };
    } catch (err) {
      // By name too: a scenario that loaded another copy of this module still gets reported as skipped.
      if (err instanceof SkipScenario || (err instanceof Error && err.name === 'SkipScenario')) {
        out(`SKIPPED ${name}: ${err.message}`);
        scenarios[name] = { status: 'skipped', seconds: seconds(), reason: err.message };
      } else {
        const reason = err instanceof Error ? (err.stack ?? err.message) : String(err);
        out(`FAILED ${name}: ${reason}`);
        scenarios[name] = { status: 'failed', seconds: seconds(), reason };
      }
    }
  }

  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    quick: opts.quick,
    machine,
    busyMachineWarning: busy,
    scenarios,
  };
  mkdirSync(opts.resultsDir, { recursive: true });
  const file = join(opts.resultsDir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');

  out('');
  printTable(
    Object.entries(scenarios).map(([name, o]) => ({
      scenario: name,
      status: o.status,
      seconds: o.seconds,
      note: o.status === 'ok' ? '' : (o.reason ?? '').split('\n')[0],
    })),
    undefined,
    out,
  );
  return { report, file };
}
