/**
 * Each role's CPU request as the charts render it (the BFF requests 1 core per estimate role, 250m for admin;
 * Geo and the ML proxy 500m), read with the prescaler's own reader of the values files, so the capacity file's
 * `cpuAtCapacityPercent` (in % of the request: what the HPA's utilization reads) uses the same request the
 * plan and the simulator use. Imported through a computed URL, as other benchmarks import service code: the
 * loadtest TypeScript project does not reference services/*, so the surface used is described here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CAPACITY_ROLES, TARGET_OF, type CapacityRole } from './options.ts';

interface ValuesModule {
  readTargets(texts: {
    suite: string;
    vendorBff: string;
    geo: string;
    mlProxy: string;
  }): Record<string, { readonly requestMilli: number }>;
}

/** CPU request per role in millicores, from charts/{suite,vendor-bff,geo,ml-proxy}/values.yaml. */
export async function chartCpuRequests(root: string): Promise<Record<CapacityRole, number>> {
  const mod = (await import(
    pathToFileURL(join(root, 'services', 'prescaler', 'src', 'learn', 'values.ts')).href
  )) as ValuesModule;
  const read = (chart: string) => readFileSync(join(root, 'charts', chart, 'values.yaml'), 'utf8');
  const targets = mod.readTargets({
    suite: read('suite'),
    vendorBff: read('vendor-bff'),
    geo: read('geo'),
    mlProxy: read('ml-proxy'),
  });
  return Object.fromEntries(
    CAPACITY_ROLES.map((r) => {
      const milli = targets[TARGET_OF[r]]?.requestMilli;
      if (milli === undefined || !(milli > 0))
        throw new Error(`no CPU request for ${TARGET_OF[r]} in the charts`);
      return [r, milli];
    }),
  ) as Record<CapacityRole, number>;
}
