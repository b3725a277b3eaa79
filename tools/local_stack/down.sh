#!/usr/bin/env bash
# make down: stop what make up started, either way.
set -uo pipefail
cd "$(dirname "$0")/../.."
# The local launcher's run folder: DEMO_RUN_DIR when set (as local_stack/run_local.py reads it).
run_dir="${DEMO_RUN_DIR:-.run}"
pid_file="$run_dir/local.pid"
if [ -f "$pid_file" ]; then
  pid=$(cat "$pid_file")
  # Only the launcher itself: after a crash the pid may belong to another program by now.
  if grep -qa local_stack.run_local "/proc/$pid/cmdline" 2>/dev/null && kill -TERM "$pid" 2>/dev/null; then
    # Until it is gone, or a zombie (no command line) its parent has yet to reap.
    while grep -qa local_stack.run_local "/proc/$pid/cmdline" 2>/dev/null; do sleep 0.2; done
    echo "Local services stopped."
  fi
  rm -f "$pid_file"
fi
# Services a launcher that died (SIGKILL, a closed terminal) left running: recorded in the
# run folder with their start times, so only those very processes are stopped.
if [ -f "$run_dir/services.json" ]; then
  # Stdlib only: without the virtual environment, python3 finds the package from tools/.
  if [ -x .venv/bin/python ]; then .venv/bin/python -m local_stack.run_state stop
  else (cd tools && python3 -m local_stack.run_state stop); fi
fi
if docker info >/dev/null 2>&1; then
  if docker compose version >/dev/null 2>&1; then docker compose down; else docker-compose down; fi
fi
exit 0
