"""Compose files read as `docker compose -f A -f B` merges them, for the tools that read
the layout themselves (the container test, the layout picture: workshop/layout_diagram.py).

The compose specification's rule for what both files set: mappings merge key by key, and
everything else (a string, a list such as ``healthcheck.test``) is the later file's. Our
files overlap only in mappings and ``healthcheck.test``, so this is all the merging needed;
podman-compose 1.6 appends ``healthcheck.test`` lists instead, which is why podman is handed
the merged file (``write_merged``).
"""

from __future__ import annotations

from pathlib import Path

import yaml


def merged(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``."""
    result = dict(base)
    for key, value in override.items():
        both_mappings = isinstance(value, dict) and isinstance(base.get(key), dict)
        result[key] = merged(base[key], value) if both_mappings else value
    return result


def load(files: list[Path]) -> dict:
    layout: dict = {}
    for path in files:
        layout = merged(layout, yaml.safe_load(path.read_text()))
    return layout


def write_merged(files: list[Path], target: Path) -> Path:
    """One file holding ``files`` merged, its build contexts made absolute (it is written
    elsewhere than the files it comes from); ``${...}`` left for the engine to fill in."""
    layout = load(files)
    for service in layout.get("services", {}).values():
        build = service.get("build")
        if isinstance(build, dict) and "context" in build:
            service["build"] = {**build, "context": str((files[0].parent / build["context"]).resolve())}
    target.write_text(yaml.safe_dump(layout, sort_keys=False))
    return target
