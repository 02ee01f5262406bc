// `pnpm replay -- --orders 2000 --speed 60`: real orders of the shared food-delivery file as a live,
// time-compressed stream in Seoul against a running suite (./scripts/run.sh): a precise estimate at
// checkout with the order's id, then its lifecycle events. What it does and why: lib/replay/ and
// loadtest/README.md ("Replay"). Exit code 0: everything answered and accepted; 1: something failed; 2: bad
// options.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseReplayArgs, USAGE, type ReplayOptions } from './lib/replay/options.ts';
import { formatReport, runFailed, type ReplayReport } from './lib/replay/report.ts';
import { runReplay } from './lib/replay/replay.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

async function main(argv: readonly string[]): Promise<number> {
  let opts: ReplayOptions | 'help';
  try {
    opts = parseReplayArgs(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    console.log(USAGE);
    return 0;
  }
  // The first Ctrl-C stops the schedule and still sends what was due and prints the report; a second exits.
  const stop = new AbortController();
  process.once('SIGINT', () => {
    console.error('interrupted: sending what was due, then the report (Ctrl-C again to quit now)');
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  let report: ReplayReport;
  try {
    report = await runReplay(opts, {
      root,
      env: process.env,
      signal: stop.signal,
      log: (line) => console.error(line),
    });
  } catch (err) {
    // Geo not answering, no broker, no dataset: say what, without a stack trace.
    console.error(`replay failed: ${(err as Error).message}`);
    return 1;
  }
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatReport(report));
  return runFailed(report) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
