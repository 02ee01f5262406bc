/** File reading shared by the CLIs: what is missing or unreadable is an InputError naming the file. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../learn/targets.ts';
import type { ChartValues } from '../learn/values.ts';

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The repository's charts/ folder, from this file's place (services/prescaler/src/cli). */
export const REPO_CHARTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../charts');

export function readChartValues(suiteText: string, chartsDir: string): ChartValues {
  return {
    suite: suiteText,
    vendorBff: readText(join(chartsDir, 'vendor-bff/values.yaml'), 'chart values'),
    geo: readText(join(chartsDir, 'geo/values.yaml'), 'chart values'),
    mlProxy: readText(join(chartsDir, 'ml-proxy/values.yaml'), 'chart values'),
  };
}

export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

export const PROCESS_IO: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

/** A number flag within bounds, or an InputError naming the flag. */
export function numberFlag(
  value: string | undefined,
  flag: string,
  fallback: number,
  ok: (n: number) => boolean,
  rule: string,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !ok(n))
    throw new InputError(`${flag} ${value}: expected ${rule}`);
  return n;
}
