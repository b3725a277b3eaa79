"""Local stand-ins for the official redis and haproxy images of docker-compose.scale.yml,
for a machine that can pull from no registry (podman here), as container_base.py makes one
for python:3.11-slim.

One Debian minbase root file system with Debian's redis-server, redis-tools and haproxy,
from this machine's apt sources and options, imported twice: as ``localhost/redis:<tag>``
(CMD redis-server) and ``localhost/haproxy:<tag>`` (CMD haproxy on the official image's
config path). With ``--pull=never`` the compose file's ``redis:<tag>`` and the load
balancer's ``FROM haproxy:<tag>`` resolve to them. The tags are the compose file's; Debian's
versions must match them, or the build stops saying which to change. They prove the
compose wiring with the same Redis and HAProxy versions, not the upstream images.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from container_test import container_base
from container_test.container_steps import StepFailed

ROOT = Path(__file__).resolve().parents[2]
SCALE_COMPOSE = ROOT / "docker-compose.scale.yml"
LOAD_BALANCER_DOCKERFILE = ROOT / "load-balancer" / "Dockerfile"
PACKAGES = ("redis-server", "redis-tools", "haproxy", "ca-certificates")
RECIPE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class StandIn:
    name: str  # the official image's name
    package: str  # the Debian package whose version the tag must match
    changes: tuple[str, ...]


STAND_INS = (
    StandIn("redis", "redis-server", ("WORKDIR /data", 'CMD ["redis-server"]')),
    StandIn("haproxy", "haproxy", ('CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',)),
)


def pinned_tags(compose_text: str, dockerfile_text: str) -> dict[str, str]:
    """The tags the scaled layout names: ``image: redis:<tag>`` in the compose file and
    ``FROM haproxy:<tag>`` in the load balancer's Dockerfile."""
    tags = {}
    for name, text, pattern in (
        ("redis", compose_text, r"^\s*image:\s*redis:(\S+)\s*$"),
        ("haproxy", dockerfile_text, r"^FROM\s+haproxy:(\S+)\s*$"),
    ):
        found = re.search(pattern, text, re.MULTILINE)
        if not found:
            raise ValueError(f"no pinned {name} image found")
        tags[name] = found.group(1)
    return tags


def upstream_version(debian_version: str) -> str:
    """'5:7.0.15-1~deb12u4' -> '7.0.15': no epoch, no Debian revision."""
    without_epoch = debian_version.split(":", 1)[-1]
    return without_epoch.rpartition("-")[0] or without_epoch


def image(stand_in: StandIn, tag: str) -> str:
    return f"localhost/{stand_in.name}:{tag}"


def labels(stand_in: StandIn, tag: str) -> dict[str, str]:
    return {"org.obo-demo.stand-in-for": f"{stand_in.name}:{tag}", "org.obo-demo.recipe": RECIPE}


def wanted() -> dict[StandIn, str]:
    tags = pinned_tags(SCALE_COMPOSE.read_text(), LOAD_BALANCER_DOCKERFILE.read_text())
    return {stand_in: tags[stand_in.name] for stand_in in STAND_INS}


def is_current(podman: list[str], env: dict[str, str], stand_in: StandIn, tag: str) -> bool:
    done = subprocess.run(
        [*podman, "image", "inspect", "--format", "{{json .Labels}}", image(stand_in, tag)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        return False
    found = json.loads(done.stdout or "null") or {}
    return all(found.get(k) == v for k, v in labels(stand_in, tag).items())


def build(steps, podman: list[str], env: dict[str, str]) -> None:
    """Make the stand-ins that are missing or from an older recipe."""
    missing = {s: tag for s, tag in wanted().items() if not is_current(podman, env, s, tag)}
    if not missing:
        steps.say("    cached")
        return
    work = Path(tempfile.mkdtemp(prefix="obo-stand-ins-"))
    rootfs = work / "rootfs"
    try:
        sources, options = container_base.apt_sources(), container_base.apt_options()
        command = container_base.mmdebstrap_command(container_base.debian_suite(), rootfs, sources, options, PACKAGES)
        steps.run(command, timeout=480)
        for stand_in, tag in missing.items():
            version = steps.run(
                ["chroot", str(rootfs), "dpkg-query", "-W", "-f=${Version}", stand_in.package], timeout=60
            ).output.strip()
            if upstream_version(version) != tag:
                raise StepFailed(
                    f"Debian's {stand_in.package} is {version}, the compose layout pins {stand_in.name}:{tag}: "
                    f"pin {stand_in.name}:{upstream_version(version)} "
                    "(docker-compose.scale.yml, load-balancer/Dockerfile)"
                )
        (rootfs / "usr" / "local" / "etc" / "haproxy").mkdir(parents=True, exist_ok=True)
        (rootfs / "data").mkdir(exist_ok=True)
        archive = work / "rootfs.tar"
        steps.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(archive), "."], timeout=300)
        for stand_in, tag in missing.items():
            changes = [
                *container_base.CHANGES[:2],  # PATH and LANG, as the python stand-in
                *stand_in.changes,
                *(f"LABEL {name}={value}" for name, value in labels(stand_in, tag).items()),
            ]
            arguments = [arg for change in changes for arg in ("--change", change)]
            steps.run([*podman, "import", *arguments, str(archive), image(stand_in, tag)], env=env, timeout=300)
            steps.say(f"    {image(stand_in, tag)}: Debian's {stand_in.package}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
