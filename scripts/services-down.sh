#!/usr/bin/env bash
# Stops what services-up.sh started that belongs to this repo: the Kafka broker of kafka.sh.
# PostgreSQL and Redis are machine services (Debian packages, shared with anything else on the
# machine and usually running already), so they are left running.
set -euo pipefail

bash "$(dirname "$0")/kafka.sh" stop
