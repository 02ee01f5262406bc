import { readdirSync } from 'node:fs';

/** ml/models: the ML proxy's default repository, which the real ml-proxy these tests start serves. */
export const MODEL_REPOSITORY = new URL('../../../ml/models/', import.meta.url);

/** The shipped versions of `model`, oldest first: integer folder names, as the ML proxy lists them. */
export function shippedVersions(model: string): string[] {
  return readdirSync(new URL(`${model}/`, MODEL_REPOSITORY), { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[1-9]\d*$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
}
