"""The picture of the scaled layout in docs/scale-out.md, drawn from the compose files.

Who calls whom is read, not drawn by hand: a service calls another when one of its
settings is a URL naming that service on the compose network (``http://target-api:3002``,
``redis://redis:6379/0``); the load balancer calls the servers of its HAProxy config
(load-balancer/haproxy.cfg, made by local_stack/scale_out.py); a browser reaches the published
ports. The local processes of `SOURCE_API_REPLICAS=3 make up` have the same shape, on
loopback ports (local_stack/scale_out.py).

    .venv/bin/python -m workshop.layout_diagram     # write it into docs/scale-out.md again
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from container_test import compose_files

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scale-out.md"
BEGIN, END = "<!-- layout:begin -->", "<!-- layout:end -->"
FILES = ("docker-compose.yml", "docker-compose.scale.yml")
BALANCER_DOCKERFILE = "load-balancer/Dockerfile"
DEFAULTED = re.compile(r"\$\{\w+:-([^}]*)\}")  # ${VARIABLE:-default}: drawn with its default
URL = re.compile(r"^(?:https?|rediss?)://([a-z0-9-]+):(\d+)")
SERVER = re.compile(r"^\s*server\s+(\S+)\s+([a-z0-9-]+):(\d+)", re.MULTILINE)
ROLES = {
    "web-app": "the web app",
    "source-api": "HAProxy, round robin, GET /healthz checks",
    "mock-idp": "the identity provider",
    "target-api": "the Target API",
    "redis": "the shared token cache, entries sealed",
}


def compose() -> dict:
    return compose_files.load([ROOT / name for name in FILES])


def calls(layout: dict, balancer_config: str) -> dict[str, list[tuple[str, str, str]]]:
    """service -> [(called service, its port, the setting that says so)], in file order."""
    services = layout["services"]
    edges: dict[str, list[tuple[str, str, str]]] = {}
    for name, service in services.items():
        if (service.get("build") or {}).get("dockerfile") == BALANCER_DOCKERFILE:
            # HAProxy reads none of the settings it inherits: its config says where it sends requests.
            edges[name] = [(host, port, "haproxy.cfg") for _, host, port in SERVER.findall(balancer_config)]
            continue
        found = []
        for setting, value in (service.get("environment") or {}).items():
            match = URL.match(DEFAULTED.sub(r"\1", str(value)))
            if match and match.group(1) in services and match.group(1) != name:
                found.append((match.group(1), match.group(2), setting))
        edges[name] = found
    return edges


def published(layout: dict) -> list[tuple[str, str]]:
    """(service, container port) of each published port, which a browser reaches."""
    reached = []
    for name, service in layout["services"].items():
        for mapping in service.get("ports") or []:
            reached.append((name, str(mapping).rpartition(":")[2]))
    return reached


def draw(layout: dict, balancer_config: str) -> str:
    edges = calls(layout, balancer_config)
    lines = ["browser (published ports)"]
    drawn: set[str] = set()

    def node(name: str, port: str, why: str, prefix: str, last: bool, like: str | None = None) -> None:
        role = f", {ROLES[name]}" if name in ROLES else ""
        label = f"{name} :{port} ({why}{role})"
        if like:
            label += f": calls what {like} calls"
        elif name in drawn and edges.get(name):
            label += ": calls as drawn above"
        lines.append(f"{prefix}{'└── ' if last else '├── '}{label}")
        if name in drawn or like:
            return
        drawn.add(name)
        children = edges.get(name, [])
        same = _same_calls(children, edges)
        inner = prefix + ("    " if last else "│   ")
        for index, (child, child_port, setting) in enumerate(children):
            node(child, child_port, setting, inner, index == len(children) - 1, same.get(child))

    entries = published(layout)
    order = sorted(entries, key=lambda entry: 0 if entry[0] == "web-app" else 1)
    for index, (name, port) in enumerate(order):
        node(name, port, "published", "", index == len(order) - 1)
    return "\n".join(lines)


def _same_calls(children, edges) -> dict[str, str]:
    """Siblings that call exactly what an earlier sibling calls (the replicas): named by it."""
    first: dict[tuple, str] = {}
    same = {}
    for child, _, _ in children:
        signature = tuple(edges.get(child, []))
        if signature and signature in first:
            same[child] = first[signature]
        else:
            first.setdefault(signature, child)
    return same


def block() -> str:
    config = (ROOT / "load-balancer" / "haproxy.cfg").read_text()
    picture = draw(compose(), config)
    return (
        f"{BEGIN}\n<!-- Drawn by `python -m workshop.layout_diagram` from {' and '.join(FILES)} and "
        f"load-balancer/haproxy.cfg; a test keeps it current. -->\n\n```text\n{picture}\n```\n{END}"
    )


def current_block(text: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    return text[start : end + len(END)] if start >= 0 and end > start else ""


def main() -> int:
    text = DOC.read_text()
    old = current_block(text)
    if not old:
        print(f"{DOC}: no {BEGIN} ... {END} block to write into", file=sys.stderr)
        return 1
    DOC.write_text(text.replace(old, block()))
    print(f"wrote the layout into {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
