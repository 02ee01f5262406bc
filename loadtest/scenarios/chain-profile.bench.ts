/**
 * Where the CPU of a precise request goes, per process: the suite as shipped (as bff-chain starts it) with
 * `node --cpu-prof`, 20 s of precise load at 1,000/s to warm up, then 20 s at 2,000/s; each process writes
 * its profile when it stops, and the top frames by self time are printed. Off unless BENCH_CPU_PROF names a
 * folder for the profiles (a profiled run is slower, so it is never part of the plain `pnpm bench`).
 *
 *   BENCH_CPU_PROF=/tmp/prof pnpm bench chain-profile
 *   BENCH_SUITE_ROOT=<another checkout> ...   the same for another commit's services (before/after)
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  printSummary,
  printTable,
  runLoad,
  runStandalone,
  SERVICE_RUNTIME_ENV,
  SkipScenario,
  type ScenarioOptions,
} from '../lib/index.ts';
import { summarizeFile, type ProfileSummary } from '../lib/cpu-profile.ts';
import { bearerHeaders, preciseAnswered, preciseMix } from '../lib/estimates.ts';
import { devServiceToken, startSuite, suiteRoot } from '../lib/suite.ts';

export async function run(opts: ScenarioOptions): Promise<Record<string, ProfileSummary>> {
  const dir = process.env.BENCH_CPU_PROF;
  if (dir === undefined || dir === '')
    throw new SkipScenario('set BENCH_CPU_PROF to a folder for the profiles');
  const root = suiteRoot(opts.root);
  const out: Record<string, ProfileSummary> = {};
  const names = ['geo', 'ml-proxy', 'vendor-bff'] as const;
  for (const name of names) await mkdir(join(dir, name), { recursive: true });
  const suite = await startSuite({
    root,
    nodeOptions: (name) =>
      `${SERVICE_RUNTIME_ENV[name]!.NODE_OPTIONS} --cpu-prof --cpu-prof-dir=${join(dir, name)}`,
  });
  try {
    const mix = preciseMix(bearerHeaders(devServiceToken(root, 'bench')), 5000);
    for (const [rate, label] of [
      [1000, 'warm'],
      [2000, 'profiled'],
    ] as const) {
      const r = await runLoad({
        origin: suite.bff.origin,
        mix,
        rate,
        durationMs: opts.quick ? 2000 : 20_000,
        label: `${label}@${rate}`,
        seed: rate,
        check: preciseAnswered,
      });
      printSummary(r);
    }
  } finally {
    await suite.stop();
  }
  for (const name of names) {
    // One profile per thread (the ML proxy's worker threads write their own): report the busiest.
    const files = (await readdir(join(dir, name))).filter((f) => f.endsWith('.cpuprofile'));
    let busiest: { file: string; summary: ProfileSummary } | undefined;
    for (const f of files) {
      const summary = await summarizeFile(join(dir, name, f));
      if (busiest === undefined || summary.busyMs > busiest.summary.busyMs) busiest = { file: f, summary };
    }
    if (busiest === undefined) continue;
    out[name] = busiest.summary;
    console.log(
      `\n${name}: ${busiest.summary.busyMs} ms busy over the thread's life, the busiest of ${files.length} ` +
        `profile(s) (${join(dir, name, busiest.file)})`,
    );
    printTable(
      busiest.summary.top.map((f) => ({
        'self ms': f.selfMs,
        share: `${(f.share * 100).toFixed(1)}%`,
        frame: f.frame,
      })),
    );
  }
  return out;
}

if (import.meta.main) await runStandalone(run);
