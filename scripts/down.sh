#!/usr/bin/env bash
# make down: stop what make up started, either way.
set -uo pipefail
cd "$(dirname "$0")/.."
# The local launcher's pid file: in DEMO_RUN_DIR when set (as scripts/run_local.py reads it).
pid_file="${DEMO_RUN_DIR:-.run}/local.pid"
if [ -f "$pid_file" ]; then
  pid=$(cat "$pid_file")
  if kill -TERM "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    echo "Local services stopped."
  fi
  rm -f "$pid_file"
fi
if docker info >/dev/null 2>&1; then
  if docker compose version >/dev/null 2>&1; then docker compose down; else docker-compose down; fi
fi
exit 0
