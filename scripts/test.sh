#!/usr/bin/env bash
# The suite's one test command (README, and what .ci/run calls): on a fresh Debian machine it installs
# everything the tests need (Node 24 and pnpm from the npm registry, the workspace's packages, PostgreSQL
# and Redis from Debian, Kafka from Maven Central), starts the backing servers on 127.0.0.1, and runs every
# check: the model checks (golden vectors of the committed models, Python unit tests), type check, lint,
# unit and integration tests, the Kubernetes checks (the charts linted, unit-tested and validated against
# the schemas of the Kubernetes release they target, then installed on a real control plane) and the
# delivery checks (skaffold, Argo CD, workflows, Terraform). The non-Node checks run through the root
# Makefile's targets (`make help`), so each is also one command on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
pnpm install --frozen-lockfile --reporter=append-only

# An assignment keeps `up`'s exit status (a bare `eval "$(...)"` would lose it and run every integration
# test against servers that never started).
backing_env="$(scripts/backing-services.sh up)"
eval "$backing_env"
# Debian's Chromium for the admin web's real-browser tests (playwright-core drives it).
services/admin-web/scripts/install-browser.sh
export DATABASE_URL REDIS_URL KAFKA_BROKERS

# The committed models must still reproduce their golden vectors and the training code's tests pass
# (builds ml/.venv from pinned requirements on first use).
make -C ml verify test

# Python's tritonclient, the reference Open Inference Protocol client, against a real ML proxy (its venv is
# built once into ~/.cache from pinned requirements).
services/ml-proxy/test/v2-client/run.sh
# Schemathesis against each service's served OpenAPI document, every check (its venv is built once into
# ~/.cache from pinned requirements; scripts/fuzz/README.md lists what is excluded and why).
scripts/fuzz/schemathesis.sh

# The Kubernetes control plane, kwok and the chart tools, built from the Go module proxy once per version
# into ~/.cache (the first build takes a while on two cores; later runs reuse it). The cluster tests
# (services/prescaler/test) start a control plane from this folder.
ETA_K8S_TOOLS="$(scripts/k8s/tools.sh)"
export ETA_K8S_TOOLS
make charts
# Delivery as code (docs/delivery.md): skaffold.yaml against its schema with every profile rendered and
# validated, the Argo CD ApplicationSets against Argo CD's CRDs, the workflows with actionlint, terraform/
# with tofu fmt, TFLint and a module-interface check. OpenTofu, TFLint and actionlint are built once per
# version into ~/.cache like the Kubernetes tools.
ETA_DELIVERY_TOOLS="$(scripts/delivery/tools.sh)"
export ETA_DELIVERY_TOOLS
make delivery
# Toxiproxy, the network-fault proxy the fault tests put on every hop (services/vendor-bff/test/faults),
# built once per version into ~/.cache: up front, so a first build never runs inside a test's time limit.
ETA_TOXIPROXY="$(scripts/faults/toxiproxy.sh)"
export ETA_TOXIPROXY

pnpm run test

# The container images, built without a Docker engine (an OCI layout from the Dockerfile's stages) and run
# as real containers with podman: read-only root, non-root user, each server ready and answering, each
# BFF role, a clean exit on SIGTERM (docs/images.md).
make images
