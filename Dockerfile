# syntax=docker/dockerfile:1
# Every image of the suite, from one file (docs/images.md): one target per image, named like its folder.
# Build from the repository root:
#   docker build --target vendor-bff -t vendor-bff .    # also: geo, ml-proxy, prescaler, ml
# What goes into an image is decided by scripts/images/stage.sh, which the build stages below run. Where no
# Docker engine exists, scripts/images/build.sh assembles the same images from this file: it reads the
# runtime stages (ENV, WORKDIR, USER, ENTRYPOINT, CMD, EXPOSE, STOPSIGNAL, LABEL and the COPYs from the
# build stages), runs the same stage.sh, and stands in for RUNTIME_IMAGE with a base of the same Debian 12
# packages. It accepts only those instructions after the build stages, so keep work that needs RUN in
# stage.sh. scripts/images/check.sh builds and runs them.
ARG BUILD_IMAGE=node:24-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot
# The ml image (the retrain job): Python 3.11 as Debian 12 has it, the runtime's Python.
ARG PYTHON_BUILD_IMAGE=python:3.11-slim-bookworm
ARG PYTHON_RUNTIME_IMAGE=gcr.io/distroless/python3-debian12:nonroot

# Build: the workspace, and every package the lockfile names in pnpm's store (a cache mount, kept between
# builds). Dependencies depend on the lockfile only, so the fetch survives every source change.
FROM ${BUILD_IMAGE} AS build
ENV CI=true
WORKDIR /repo
COPY package.json pnpm-workspace.yaml pnpm-lock.yaml .npmrc ./
# pnpm at the version package.json pins (packageManager), from the npm registry; its store in the cache mount.
RUN npm install --global --no-fund --no-audit "$(node -p 'require("./package.json").packageManager')" \
 && pnpm config set --global store-dir /pnpm/store
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch
COPY . .

FROM build AS build-vendor-bff
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store scripts/images/stage.sh vendor-bff /out

FROM build AS build-geo
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store scripts/images/stage.sh geo /out

FROM build AS build-ml-proxy
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store scripts/images/stage.sh ml-proxy /out

FROM build AS build-prescaler
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store scripts/images/stage.sh prescaler /out

# Development (skaffold's dev profile only, never released or pushed; not an image target of
# scripts/images/build.sh, which builds the stages on RUNTIME_IMAGE): the workspace with its dependencies and
# Node watching the service's sources. skaffold syncs changed .ts files into /repo with `kubectl exec ... tar`,
# which this image has (distroless has no tar), and `node --watch` restarts the service on the change.
#   docker build --target dev --build-arg SERVICE=geo .      # vendor-bff, geo, ml-proxy
FROM build AS dev
ARG SERVICE=vendor-bff
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    if [ "${SERVICE}" = vendor-bff ]; then web="--filter admin-web..."; else web=""; fi \
 && pnpm install --frozen-lockfile --offline --filter "${SERVICE}..." $web \
 && if [ -n "$web" ]; then pnpm --filter admin-web run build; fi \
 && chown -R 65532:65532 /repo/services /repo/packages
ENV NODE_ENV=development
WORKDIR /repo/services/${SERVICE}
USER 65532:65532
STOPSIGNAL SIGTERM
# --liftoff-only as in vendor-bff's runtime stage (--watch passes it on to the service it restarts): with
# embedded PGlite the BFF peaked at ~950 MiB without it, and the dev values' limit is 1Gi. Only the BFF runs
# WebAssembly, so the flag changes nothing for geo and ml-proxy.
ENTRYPOINT ["node", "--watch", "--watch-preserve-output", "--liftoff-only", "src/main.ts"]
CMD []

# Runtime: Node 24 on Debian 12 without a shell or package manager, as the numeric non-root user (so the
# kubelet can verify runAsNonRoot). Files are owned by root and read-only to that user: every image runs
# with a read-only root file system; /tmp is the only place a service may write (an emptyDir in the chart).
# Arguments go to the service: ENTRYPOINT runs src/main.ts, so `docker run prescaler --help` works, and a
# Job runs another script with `command: [/nodejs/bin/node, src/cli/migrate.ts]`.
FROM ${RUNTIME_IMAGE} AS runtime
# `node` on PATH too, for a pod spec whose command names it (distroless has it only at /nodejs/bin/node).
ENV NODE_ENV=production \
    PATH=/nodejs/bin:$PATH
WORKDIR /app
USER 65532:65532
# runService drains on SIGTERM (readiness fails, SHUTDOWN_DELAY_MS, then close); Node runs as PID 1.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/nodejs/bin/node", "src/main.ts"]
CMD []

# One image, three Deployments: ROLE=precise|rough|admin (all: every route, for local runs). The admin
# role serves the admin web built into the image.
FROM runtime AS vendor-bff
# A larger young generation: far fewer scavenges at thousands of requests per second (docs/architecture.md);
# packages/testing's SERVICE_RUNTIME_ENV holds the same settings for the run command and the tests.
ENV NODE_OPTIONS=--max-semi-space-size=32 \
    PORT=8080 \
    ADMIN_WEB_DIR=/app/admin-web
# WebAssembly on V8's baseline tier only (V8 takes the flag on the command line, not in NODE_OPTIONS):
# embedded PGlite's optimising compile took ~890 MB resident while it started (SERVICE_RUNTIME_ARGS).
ENTRYPOINT ["/nodejs/bin/node", "--liftoff-only", "src/main.ts"]
LABEL org.opencontainers.image.title=vendor-bff
COPY --from=build-vendor-bff /out/deps/ /
COPY --from=build-vendor-bff /out/app/ /
COPY --from=build-vendor-bff /out/data/ /
EXPOSE 8080

FROM runtime AS geo
# A small young generation and two malloc arenas: ~40 MB less resident, no cost seen (docs/architecture.md).
ENV NODE_OPTIONS=--max-semi-space-size=8 \
    MALLOC_ARENA_MAX=2 \
    PORT=8081 \
    GEO_DATA_DIR=/app/data
LABEL org.opencontainers.image.title=geo
COPY --from=build-geo /out/deps/ /
COPY --from=build-geo /out/app/ /
# The committed geodata (about 250 kB); its own layer, so new data does not re-ship the code.
COPY --from=build-geo /out/data/ /
EXPOSE 8081

# The committed models are the default model repository; production may mount a volume (or an init
# container's sync) over /models so new versions arrive without a new image.
FROM runtime AS ml-proxy
# As geo: 8 MB semi-spaces and two malloc arenas (docs/architecture.md).
ENV NODE_OPTIONS=--max-semi-space-size=8 \
    MALLOC_ARENA_MAX=2 \
    PORT=8082 \
    MODEL_REPOSITORY=/models
LABEL org.opencontainers.image.title=ml-proxy
COPY --from=build-ml-proxy /out/deps/ /
COPY --from=build-ml-proxy /out/app/ /
COPY --from=build-ml-proxy /out/data/ /
EXPOSE 8082

# Run to completion by the suite chart's CronJobs; no port.
FROM runtime AS prescaler
LABEL org.opencontainers.image.title=prescaler
COPY --from=build-prescaler /out/deps/ /
COPY --from=build-prescaler /out/app/ /

# The retrain job (ml/eta_models/retrain.py), run by the ML proxy chart's CronJob: ml/requirements.txt's
# wheels and the ml/ code on distroless Python 3.11, as the same non-root user, read-only. Its own build
# stage: it needs Python and pip, not the Node workspace.
FROM ${PYTHON_BUILD_IMAGE} AS build-ml
WORKDIR /repo
COPY scripts/images/stage.sh scripts/images/stage.sh
COPY ml/requirements.txt ml/requirements.txt
COPY ml/eta_models ml/eta_models
RUN --mount=type=cache,id=pip-cache,target=/root/.cache/pip scripts/images/stage.sh ml /out

FROM ${PYTHON_RUNTIME_IMAGE} AS ml
# No .pyc written at run time (the root file system is read-only); logs unbuffered, as a Job's should be.
ENV PYTHONPATH=/app/site-packages:/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
WORKDIR /app
USER 65532:65532
LABEL org.opencontainers.image.title=ml
# Arguments go to the job: `docker run ml --help`; the chart's CronJob passes its flags.
ENTRYPOINT ["/usr/bin/python3.11", "-m", "eta_models.retrain"]
CMD []
COPY --from=build-ml /out/deps/ /
COPY --from=build-ml /out/app/ /
