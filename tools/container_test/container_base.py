"""A local stand-in for python:3.11-slim, for a machine that can pull from no registry.

A Debian bookworm minbase root file system (mmdebstrap) with Debian's Python 3.11, pip and
venv, made to behave as the official image does for the project's Dockerfiles: `python`
is python3, `pip install` as root works (no EXTERNALLY-MANAGED marker), PATH, LANG and CMD
as upstream. With `--pull=never` the Dockerfiles' unchanged `FROM python:3.11-slim`
resolves to it.

It is made from this machine's own apt sources and options, CA certificates and pip
timeout, read when it is built, so what reaches Debian's archive and PyPI here reaches
them inside a build too; none of it is written into the repository. It proves the
Dockerfiles and the compose wiring, not the upstream base image, and the images built on
it carry this machine's CA certificates: local test images, never to be pushed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

IMAGE = "localhost/python:3.11-slim"
PACKAGES = ("python3", "python3-pip", "python3-venv", "python-is-python3", "ca-certificates")
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # Debian's bundle, in the image
# The labels say what the image is, and which recipe made it (a changed recipe rebuilds it).
RECIPE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
LABELS = {"org.obo-demo.stand-in-for": "python:3.11-slim", "org.obo-demo.recipe": RECIPE}
CHANGES = (
    "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
    *(f"LABEL {name}={value}" for name, value in LABELS.items()),
)
# Like the official slim image: no manuals, documentation or translations.
DPKG_OPTIONS = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
)
TIMEOUT_KEYS = ("timeout", "default-timeout")


def apt_sources(etc: Path = Path("/etc/apt")) -> list[Path]:
    """The machine's apt source files, one-line or deb822, as mmdebstrap takes them."""
    files = [etc / "sources.list"] if _has_entries(etc / "sources.list") else []
    folder = etc / "sources.list.d"
    if folder.is_dir():
        files += sorted(p for p in folder.iterdir() if p.suffix in (".list", ".sources") and _has_entries(p))
    return files


def _has_entries(path: Path) -> bool:
    if not path.is_file():
        return False
    lines = (line.strip() for line in path.read_text(errors="replace").splitlines())
    return any(line and not line.startswith("#") for line in lines)


def apt_options(etc: Path = Path("/etc/apt")) -> list[Path]:
    """The machine's apt.conf.d files that set how the archive is fetched (``Acquire``):
    this machine's archive needs e.g. Check-Valid-Until "false"."""
    folder = etc / "apt.conf.d"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and "Acquire" in p.read_text(errors="replace"))


def pip_conf(config_list: str) -> str:
    """The image's /etc/pip.conf from the machine's `pip config list`: its timeout, and
    the image's own CA bundle. Nothing else is kept: indexes, find-links and constraints
    of the machine name files or hosts that a build must not depend on, and a host never
    goes into the image this way (a timeout that is not a number is dropped)."""
    timeout = None
    for line in config_list.splitlines():
        key, _, value = line.partition("=")
        if key.rsplit(".", 1)[-1].strip() in TIMEOUT_KEYS:
            value = value.strip().strip("'\"")
            if _is_number(value):
                timeout = value
    lines = ["[global]", f"cert = {BUNDLE}"]
    if timeout is not None:
        lines.append(f"timeout = {timeout}")
    return "\n".join(lines) + "\n"


def _is_number(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


def mmdebstrap_command(
    suite: str, target: Path, sources: list[Path], options: list[Path], packages: tuple[str, ...] = PACKAGES
) -> list[str]:
    return [
        "mmdebstrap",
        "--mode=root",
        "--variant=minbase",
        "--include=" + ",".join(packages),
        *(f"--aptopt={path}" for path in options),
        *(f"--dpkgopt={option}" for option in DPKG_OPTIONS),
        suite,
        str(target),
        *(str(path) for path in sources),
    ]


def debian_suite(os_release: Path = Path("/etc/os-release")) -> str:
    for line in os_release.read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "bookworm"


def machine_pip_config() -> str:
    """`pip config list` of the machine, or nothing when pip is not there."""
    try:
        return subprocess.run(
            ["python3", "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def build(steps, podman: list[str], env: dict[str, str]) -> None:
    """Make the root file system, finish it as the official image is, import it."""
    work = Path(tempfile.mkdtemp(prefix="obo-base-"))
    rootfs = work / "rootfs"
    try:
        sources, options = apt_sources(), apt_options()
        steps.say(f"    root file system from {len(sources)} apt source file(s), {len(options)} option file(s)")
        steps.run(mmdebstrap_command(debian_suite(), rootfs, sources, options), timeout=480)
        finish(rootfs, machine_pip_config())
        steps.run(["chroot", str(rootfs), "update-ca-certificates"], timeout=120)
        archive = work / "rootfs.tar"
        steps.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(archive), "."], timeout=300)
        changes = [arg for change in CHANGES for arg in ("--change", change)]
        steps.run([*podman, "import", *changes, str(archive), IMAGE], env=env, timeout=300)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def finish(rootfs: Path, pip_config: str, extra_cas: Path = Path("/usr/local/share/ca-certificates")) -> None:
    """What turns Debian's Python into the official image's behaviour here."""
    for marker in rootfs.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()  # the official image's pip installs as root without a venv
    (rootfs / "etc" / "pip.conf").write_text(pip_conf(pip_config))
    target = rootfs / "usr" / "local" / "share" / "ca-certificates"
    target.mkdir(parents=True, exist_ok=True)
    for certificate in sorted(extra_cas.glob("*.crt")) if extra_cas.is_dir() else []:
        shutil.copy2(certificate, target / certificate.name)  # pip in a build trusts what the host does
