#!/usr/bin/env bash
# Makes sure the command-line tools a test needs are installed, installing the missing ones from
# Debian packages. Idempotent: a tool already on PATH is left alone and apt-get is not run.
#
#   bash scripts/ensure-tools.sh docker-compose              # package and command share a name
#   bash scripts/ensure-tools.sh postgresql-client:psql      # package:command when they differ
#
# Needs root (CI runs as root) or password-less sudo to install; says so and exits 1 otherwise.
# Exit codes: 0 every tool is present, 1 something could not be installed, 2 usage error.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/ensure-tools.sh <package>[:<command>] ..." >&2
  exit 2
fi

missing_packages=()
missing_commands=()
for spec in "$@"; do
  package=${spec%%:*}
  command_name=${spec#*:}
  if [ -z "$package" ] || [ -z "$command_name" ]; then
    echo "ensure-tools: bad argument \"$spec\" (expected <package> or <package>:<command>)" >&2
    exit 2
  fi
  if path=$(command -v "$command_name" 2>/dev/null); then
    echo "ensure-tools: $command_name is already installed ($path)"
  else
    missing_packages+=("$package")
    missing_commands+=("$command_name")
  fi
done

if [ "${#missing_packages[@]}" -eq 0 ]; then
  exit 0
fi

fail() {
  echo "ensure-tools: cannot install ${missing_packages[*]}: $1" >&2
  echo "ensure-tools: install it by hand (apt-get install ${missing_packages[*]}) or put ${missing_commands[*]} on PATH" >&2
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
  fail "apt-get is not available (not a Debian/Ubuntu machine)"
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  fail "not root and no password-less sudo"
fi

# Wait for another apt/dpkg run (a parallel job, unattended-upgrades) instead of failing at once.
apt_options=(-o DPkg::Lock::Timeout=120 -o Acquire::Retries=3)
started=$(date +%s)
echo "ensure-tools: installing ${missing_packages[*]} (apt-get)"
if ! "${as_root[@]}" apt-get "${apt_options[@]}" update -qq; then
  fail "apt-get update failed"
fi
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" install -y -qq \
  --no-install-recommends "${missing_packages[@]}" >/dev/null; then
  fail "apt-get install failed"
fi

for i in "${!missing_commands[@]}"; do
  if ! path=$(command -v "${missing_commands[$i]}" 2>/dev/null); then
    fail "package ${missing_packages[$i]} was installed but \"${missing_commands[$i]}\" is still not on PATH"
  fi
  echo "ensure-tools: installed ${missing_packages[$i]} → ${missing_commands[$i]} ($path)"
done
echo "ensure-tools: done in $(($(date +%s) - started)) s"
