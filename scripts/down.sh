#!/usr/bin/env bash
# make down: stop what make up started, either way.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -f .run/local.pid ]; then
  pid=$(cat .run/local.pid)
  if kill -TERM "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    echo "Local services stopped."
  fi
  rm -f .run/local.pid
fi
if docker info >/dev/null 2>&1; then
  if docker compose version >/dev/null 2>&1; then docker compose down; else docker-compose down; fi
fi
exit 0
