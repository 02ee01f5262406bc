import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { listScenarios, machineInfo, runBench, type BenchReport, type MachineInfo } from '../lib/index.ts';

const scenariosDir = fileURLToPath(new URL('./fixtures/scenarios', import.meta.url));
const quiet: MachineInfo = { ...machineInfo(), availableParallelism: 2, loadAverage: [0.1, 0.1, 0.1] };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function bench(names: string[], machine: MachineInfo = quiet) {
  const resultsDir = mkdtempSync(join(tmpdir(), 'bench-results-'));
  dirs.push(resultsDir);
  const lines: string[] = [];
  const { report, file } = await runBench({
    scenariosDir,
    resultsDir,
    root: '/repo',
    names,
    quick: true,
    machine,
    out: (l) => lines.push(l),
  });
  return { report, file, resultsDir, text: lines.join('\n') };
}

describe('runBench', () => {
  it('finds scenarios by their .bench.ts suffix', () => {
    expect(listScenarios(scenariosDir)).toEqual(['broken', 'fine', 'needs-redis', 'no-run']);
  });

  it('runs every scenario, reports skips and failures without stopping, and writes the JSON', async () => {
    const { report, file, resultsDir, text } = await bench([]);

    expect(Object.keys(report.scenarios)).toEqual(['broken', 'fine', 'needs-redis', 'no-run']);
    expect(report.scenarios.fine).toMatchObject({ status: 'ok', figures: { quick: true, root: '/repo' } });
    expect(report.scenarios['needs-redis']).toMatchObject({
      status: 'skipped',
      reason: 'REDIS_URL is not set',
    });
    expect(report.scenarios.broken?.status).toBe('failed');
    expect(report.scenarios.broken?.reason).toContain('scenario blew up');
    expect(report.scenarios['no-run']).toMatchObject({ status: 'failed' });
    expect(report.scenarios['no-run']?.reason).toContain('does not export run(opts)');

    expect(readdirSync(resultsDir)).toEqual([file.slice(resultsDir.length + 1)]);
    expect(file).toMatch(/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.json$/);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    expect(saved.machine.cpuModel).toBe(quiet.cpuModel);
    expect(saved.scenarios.fine?.figures).toEqual(report.scenarios.fine?.figures);

    // The machine comes first, once.
    expect(text.indexOf('machine:')).toBe(0);
    expect(text.split('machine:')).toHaveLength(2);
    expect(text).toContain('SKIPPED needs-redis: REDIS_URL is not set');
    expect(text).toContain('FAILED broken');
  });

  it('runs only the named scenarios, in the order given', async () => {
    const { report } = await bench(['needs-redis', 'fine']);
    expect(Object.keys(report.scenarios)).toEqual(['needs-redis', 'fine']);
  });

  it('refuses unknown names before running anything', async () => {
    await expect(bench(['fine', 'nope'])).rejects.toThrow(/unknown scenario: nope; available: broken, fine/);
  });

  it('warns when the load average says other work is running', async () => {
    const { report, text } = await bench(['fine'], { ...quiet, loadAverage: [1.9, 1, 0.5] });
    expect(report.busyMachineWarning).toMatch(/load average is 1.9/);
    expect(text).toContain('WARNING: the 1-minute load average is 1.9');
  });
});
