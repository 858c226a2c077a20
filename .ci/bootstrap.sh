#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, run and test CyNodeAI. Idempotent; needs root for apt.
# bun and just come from the npm registry; podman, runc and busybox (for the sandbox image) from Debian, and
# chromium (headless, for the API reference test).
set -euo pipefail

need_npm=()
command -v bun >/dev/null 2>&1 || need_npm+=(bun)
command -v just >/dev/null 2>&1 || need_npm+=(rust-just)
if ((${#need_npm[@]})); then
  echo "bootstrap: npm install -g ${need_npm[*]}"
  npm install -g --silent "${need_npm[@]}"
fi

apt_pkgs=(podman runc catatonit uidmap busybox-static chromium)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "bootstrap: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

# Sandboxes run in a user namespace whose host ids are the range reserved here for `containers` in /etc/subuid and
# /etc/subgid (root inside = 2147483647 on the host). Added once; an existing entry is left as it is.
for f in /etc/subuid /etc/subgid; do
  grep -q '^containers:' "$f" 2>/dev/null || echo 'containers:2147483647:2147483648' >>"$f"
done

cd "$(dirname "$0")/.."
bun install --frozen-lockfile >/dev/null
echo "bootstrap: bun $(bun --version), $(just --version), $(podman --version)"
