# CyNodeAI tasks. First time on a fresh machine: `bash .ci/bootstrap.sh` (installs bun, just, podman, runc).

set shell := ["bash", "-euo", "pipefail", "-c"]

# List recipes
default:
    @just --list

# Install dependencies (idempotent)
install:
    bun install --frozen-lockfile

# Compile the four executables into dist/bin (the orchestrator with the web console; its gzipped size is printed)
build: install
    bun build.ts

# Build the container images (sandbox, inference-proxy) locally; skipped when their inputs are unchanged
images: install
    bun containers/build-image.ts sandbox
    bun containers/build-image.ts inference-proxy

# Type-check everything (the web console apart: browser code, the DOM's types and not Bun's)
typecheck: install
    bunx tsc --noEmit -p tsconfig.json
    bunx tsc --noEmit -p src/web/tsconfig.json

# Lint: the type-check, then biome's linter and format check (rules in biome.json)
lint: typecheck
    bunx biome check .

# Audit the locked dependencies: known vulnerabilities (when the registry offers advisories), publication, integrity, deprecation
audit: install
    bun .ci/audit.ts

# Format the tree in place (biome)
fmt: install
    bunx biome format --write .

# All tests: unit and HTTP tests with coverage (>= 90 % lines per file, enforced by bunfig.toml), then the behaviour suite
test: install typecheck images
    # Many tests drive real podman and Postgres: a loaded 2-core machine needs more than bun's 5 s default.
    # The failing tests are named again after the coverage table, so the tail of a CI log shows them.
    log=$(mktemp); trap 'rm -f "$log"' EXIT; bun test --timeout 60000 2>&1 | tee "$log" || { echo "failed:"; grep -E '^\(fail\)' "$log" | sort -u || echo "no failing test: a file is under the 90 % line coverage threshold (table above)"; exit 1; }
    bun .ci/coverage-by-directory.ts
    just test-bdd

# Behaviour suite: features/ with steps in bdd/, against real processes (source entrypoints; dist/bin with CYNODE_BDD_BINARIES=1)
test-bdd: install images
    bun --bun x cucumber-js --import 'bdd/**/*.ts' --format progress features/

alias bdd := test-bdd

# End to end from dist/bin: orchestrator + worker node + cynork and the web console in Chromium, inference included (OLLAMA_UPSTREAM_URL, else the test double)
e2e: build images
    CYNODE_BDD_BINARIES=1 bun --bun x cucumber-js --import 'bdd/**/*.ts' --format progress features/e2e/ features/web/

# What CI runs (.ci/run): lint (type-check, biome lint and format check), the dependency audit, every test, then the
# end-to-end features and the web console again from the compiled executables
ci: lint audit test e2e

# Run the whole system from dist/bin on embedded defaults (state in ./.state), show it working, stay up until Ctrl+C
demo: build images
    @bun .ci/demo.ts up

# Stop what `just demo` started
down:
    @bun .ci/demo.ts down

# Run the orchestrator from source on the embedded Postgres (state in ./.state)
run-orchestrator: install
    bun src/orchestrator/main.ts --state-dir {{justfile_directory()}}/.state/orchestrator

# Two worker nodes started together on one host, ROUNDS times: exits 1 unless both come up every time
two-nodes rounds="10": install images
    bun .ci/two-nodes-start.ts {{rounds}}

# Benchmarks: each measurement against its baseline, side by side; report in bench/results/
bench: install images build
    bun bench/run.ts
