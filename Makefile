# Front door for the suite's non-Node tools (charts, images, Terraform, skaffold, Argo CD, workflows) from the
# repository root. Each target runs the same script the test command runs (./scripts/test.sh calls
# `make charts delivery images`; `make cluster-test` is part of its vitest run); the tools are built once
# per version into ~/.cache/eta-suite by scripts/k8s/tools.sh and scripts/delivery/tools.sh.
#   make help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

.PHONY: help run test charts images tf-validate skaffold-render argocd workflows delivery cluster-test tools

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

run: ## the suite on embedded defaults (./scripts/run.sh)
	./scripts/run.sh

test: ## the whole test command (./scripts/test.sh, what CI runs)
	./scripts/test.sh

tools: ## build (or find cached) every Kubernetes and delivery tool
	scripts/k8s/tools.sh >/dev/null
	scripts/delivery/tools.sh >/dev/null

charts: ## lint, unit-test and validate the Helm charts (scripts/k8s/check-charts.sh)
	scripts/k8s/check-charts.sh

images: ## build the images without Docker and run them with podman (scripts/images/check.sh)
	scripts/images/check.sh

tf-validate: ## tofu fmt -check, tflint and the module interfaces of terraform/
	scripts/delivery/check.sh terraform

skaffold-render: ## skaffold.yaml against its schema; every profile rendered and validated
	scripts/delivery/check.sh skaffold

argocd: ## deploy/argocd against Argo CD's CRDs; sources, project and sync order
	scripts/delivery/check.sh argocd

workflows: ## actionlint (with shellcheck) on .github/workflows
	scripts/delivery/check.sh workflows

delivery: ## all four delivery checks above
	scripts/delivery/check.sh

cluster-test: ## the charts installed on a real control plane (kube-apiserver, controllers, kwok nodes)
	source scripts/toolchain.sh >/dev/null && ETA_K8S_TOOLS="$$(scripts/k8s/tools.sh)" \
	  pnpm exec vitest run --project integration services/prescaler/test
