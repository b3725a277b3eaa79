"""Run the demo as local processes: every service under gunicorn, logs interleaved.

Stops everything on Ctrl-C or SIGTERM (``make down``), or when any service exits.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from launcher import ROOT, default_services, prefix_output, start, stop, wait_healthy

PID_FILE = ROOT / ".run" / "local.pid"


def load_env_file(path: Path) -> None:
    """KEY=value lines of .env, as docker-compose reads them; the environment wins."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#") and value.strip():
            os.environ.setdefault(name.strip(), value.strip())


def main() -> int:
    load_env_file(ROOT / ".env")
    bin_dir = Path(sys.executable).parent
    services = default_services()
    width = max(len(s.name) for s in services)
    running = []
    stopping = False

    def shut_down(*_):
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shut_down)
    PID_FILE.parent.mkdir(exist_ok=True)
    PID_FILE.write_text(str(os.getpid()))
    try:
        for service in services:
            process = start(service, bin_dir)
            running.append((service, process))
            prefix_output(service.name, process, width)
        for service, process in running:
            wait_healthy(service, process)
        print(banner(services), flush=True)
        while True:
            for service, process in running:
                if process.poll() is not None:
                    print(f"{service.name} exited with code {process.returncode}; stopping.", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(f"make up: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        for _, process in reversed(running):
            stop(process)
        PID_FILE.unlink(missing_ok=True)
        if stopping or running:
            print("All services stopped.", flush=True)


def banner(services) -> str:
    lines = ["", "Ready. Open http://localhost:3000 and log in as alice@example.com (password Passw0rd!).", ""]
    lines += [f"  {s.name:<10} {s.url}" for s in services]
    lines += [
        "",
        "  Tenant logs:  http://localhost:9000/logs",
        "  Demo users:   alice@example.com, bob@example.com, password Passw0rd! (demo only)",
        "",
        "Stop with Ctrl-C or `make down`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
