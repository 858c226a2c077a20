# CyNodeAI tasks. First time on a fresh machine: `bash .ci/bootstrap.sh` (installs bun, just, podman, runc).

set shell := ["bash", "-euo", "pipefail", "-c"]

# List recipes
default:
    @just --list

# Install dependencies (idempotent)
install:
    bun install --frozen-lockfile

# Compile the four executables into dist/bin
build: install
    bun build.ts

# Build the container images (sandbox, inference-proxy) locally; skipped when their inputs are unchanged
images: install
    bun containers/build-image.ts sandbox
    bun containers/build-image.ts inference-proxy

# Type-check everything
typecheck: install
    bunx tsc --noEmit -p tsconfig.json

# All tests: unit and HTTP tests with coverage (>= 90 % lines, enforced), then the behaviour suite
test: install typecheck images
    bun test
    just bdd

# Behaviour suite (features/ with steps in bdd/) against the real executables' sources
bdd: install
    bun --bun x cucumber-js --import 'bdd/**/*.ts' --format progress features/

# Run the orchestrator from source on the embedded Postgres (state in ./.state)
run-orchestrator: install
    bun src/orchestrator/main.ts --state-dir {{justfile_directory()}}/.state/orchestrator

# Benchmarks: each measurement against its baseline, side by side; report in bench/results/
bench: install images build
    bun bench/run.ts
