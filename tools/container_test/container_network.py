"""What podman's networking changes on the host, recorded before the test and put back after.

netavark turns net.ipv4.ip_forward on and adds its iptables chains (NETAVARK_FORWARD,
NETAVARK-HOSTPORT-*) with the jumps to them; when the last network goes it removes its
per-network rules but leaves those. The snapshot taken before podman first runs says what
was the machine's own, so only what the test added is removed.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
FIREWALLS = tuple((tool, table) for tool in ("iptables", "ip6tables") for table in ("filter", "nat"))
MARK = "NETAVARK"


@dataclass
class Snapshot:
    ip_forward: str | None
    rules: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (tool, table) -> netavark lines


def snapshot() -> Snapshot:
    forward = IP_FORWARD.read_text().strip() if IP_FORWARD.exists() else None
    return Snapshot(forward, {where: _netavark_lines(*where) for where in FIREWALLS if shutil.which(where[0])})


def _netavark_lines(tool: str, table: str) -> list[str]:
    done = subprocess.run([tool, "-t", table, "-S"], capture_output=True, text=True, timeout=60)
    return [line for line in done.stdout.splitlines() if MARK in line] if done.returncode == 0 else []


def undo_commands(tool: str, table: str, before: list[str], now: list[str]) -> list[list[str]]:
    """The commands that remove the netavark rules and chains in ``now`` not in ``before``:
    rules first (last added first), then the chains they emptied."""
    added = [line for line in now if line not in before]
    rules = [shlex.split(line) for line in added if line.startswith("-A ")]
    chains = [line.split()[1] for line in added if line.startswith("-N ")]
    return [[tool, "-t", table, "-D", *rule[1:]] for rule in reversed(rules)] + [
        [tool, "-t", table, "-X", chain] for chain in chains
    ]


def restore(before: Snapshot) -> list[str]:
    """Put back what changed since ``before``; returns what was done, one line each."""
    done, removed = [], 0
    for where, lines in before.rules.items():
        for command in undo_commands(*where, lines, _netavark_lines(*where)):
            result = subprocess.run(command, capture_output=True, text=True, timeout=60)
            if result.returncode == 0:
                removed += 1
            else:
                done.append(f"could not undo `{' '.join(command)}`: {result.stderr.strip()}")
    if removed:
        done.append(f"{removed} netavark firewall rule(s) and chain(s) the test added: removed")
    if before.ip_forward is not None and IP_FORWARD.read_text().strip() != before.ip_forward:
        IP_FORWARD.write_text(before.ip_forward + "\n")
        done.append(f"net.ipv4.ip_forward back to {before.ip_forward}")
    return done
