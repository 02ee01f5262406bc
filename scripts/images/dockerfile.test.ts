import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { imageTargets, parseDockerfile } from './dockerfile.ts';

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
