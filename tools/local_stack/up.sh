#!/usr/bin/env bash
# make up: Docker Compose where a Docker engine answers, local processes otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
if docker info >/dev/null 2>&1; then
  if [ -n "${SOURCE_API_REPLICAS:-}" ]; then
    # Compose has its own way to the same layout; say so rather than ignore the setting.
    echo "SOURCE_API_REPLICAS is for local processes: with Docker, add docker-compose.scale.yml (docs/scale-out.md)."
  fi
  # Published ports from the URLs in the settings, unless set; with an https issuer naming
  # the mock, its certificates and docker-compose.https.yml (local_stack/compose_env.py).
  ports=$(.venv/bin/python -m local_stack.compose_env) || exit 1
  eval "$ports"
  if docker compose version >/dev/null 2>&1; then
    exec docker compose up --build
  fi
  exec docker-compose up --build
fi
echo "No Docker engine answers here: running the services as local processes."
exec .venv/bin/python -m local_stack.run_local
