import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVICE_RUNTIME_ARGS, SERVICE_RUNTIME_ENV } from '@eta/testing/spawn';
import { imageTargets, parseDockerfile, planImage } from './dockerfile.ts';

const repoDockerfile = fileURLToPath(new URL('../../Dockerfile', import.meta.url));

describe('imageTargets', () => {
  it("the repository's Dockerfile: the five images, not the build stages or skaffold's dev stage", () => {
    const df = parseDockerfile(readFileSync(repoDockerfile, 'utf8'));
    expect(df.stages.some((s) => s.name === 'dev')).toBe(true);
    expect(imageTargets(df).sort()).toEqual(['geo', 'ml', 'ml-proxy', 'prescaler', 'vendor-bff']);
  });

  it('counts only leaves that start at the runtime image', () => {
    const df = parseDockerfile(
      [
        'ARG BUILD_IMAGE=node:24-slim',
        'ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot',
        'FROM ${BUILD_IMAGE} AS build',
        'RUN true',
        'FROM build AS build-a',
        'RUN scripts/images/stage.sh a /out',
        'FROM build AS tooling',
        'RUN true',
        'FROM $RUNTIME_IMAGE AS runtime',
        'USER 65532:65532',
        'FROM runtime AS a',
        'COPY --from=build-a /out/app/ /',
        'FROM runtime AS b',
        'USER 65532:65532',
        'ARG PYTHON_BUILD_IMAGE=python:3.11-slim-bookworm',
        'FROM ${PYTHON_BUILD_IMAGE} AS build-c',
        'RUN scripts/images/stage.sh c /out',
        'FROM ${PYTHON_RUNTIME_IMAGE} AS c',
        'COPY --from=build-c /out/app/ /',
        'FROM python:3.11 AS d',
        'USER 65532:65532',
      ].join('\n'),
    );
    expect(imageTargets(df)).toEqual(['a', 'b', 'c']);
  });
});

describe('the server images and the processes the run command, tests and benchmarks start', () => {
  it("the development stage (skaffold dev) runs the BFF with its image's V8 flags too", () => {
    const df = parseDockerfile(readFileSync(repoDockerfile, 'utf8'));
    const dev = df.stages.find((stage) => stage.name === 'dev');
    const entrypoints = dev?.instructions.filter((i) => i.keyword === 'ENTRYPOINT') ?? [];
    expect(entrypoints).toHaveLength(1);
    const entry = JSON.parse(entrypoints[0]!.args) as string[];
    expect(entry.at(-1)).toBe('src/main.ts');
    for (const arg of SERVICE_RUNTIME_ARGS['vendor-bff'] ?? []) expect(entry).toContain(arg);
  });

  // spawnService gives a service's main SERVICE_RUNTIME_ENV; the images and `pnpm start` must set the same,
  // or the benchmarks measure a process the cluster does not run.
  const df = parseDockerfile(readFileSync(repoDockerfile, 'utf8'));
  for (const [service, settings] of Object.entries(SERVICE_RUNTIME_ENV)) {
    const args = SERVICE_RUNTIME_ARGS[service] ?? [];
    it(`${service}: the image's ENV and ENTRYPOINT and the start script carry ${[...Object.keys(settings), ...args].join(' and ')}`, () => {
      const { config } = planImage(df, service, { Env: [], ExposedPorts: {}, Labels: {} });
      for (const [key, value] of Object.entries(settings)) expect(config.Env).toContain(`${key}=${value}`);
      expect(config.Entrypoint).toEqual(['/nodejs/bin/node', ...args, 'src/main.ts']);
      const pkg = JSON.parse(
        readFileSync(
          fileURLToPath(new URL(`../../services/${service}/package.json`, import.meta.url)),
          'utf8',
        ),
      ) as { scripts: { start: string } };
      const start = pkg.scripts.start;
      for (const [key, value] of Object.entries(settings)) {
        if (key === 'NODE_OPTIONS') expect(start).toContain(`node ${[value, ...args].join(' ')} src/main.ts`);
        else expect(start).toContain(`${key}=${value} `);
      }
    });
  }
});
