"""The container engine under `make test-containers`: Docker Compose where a Docker engine
answers, podman with podman-compose elsewhere.

Both are driven the same way: build the images, start one service at a time, run a
container's healthcheck now, run a command in a container, read a container's log, stop
(volumes kept or not), and remove every container, network and volume of the project.
What differs is kept here: podman 4.3 runs no healthcheck by itself (it would need
systemd timers) and podman-compose ignores `condition: service_healthy` with it, so the
caller starts services in order and polls `podman healthcheck run`; podman needs a
containers.conf for this kind of machine and a base image built locally, and its
networking changes the host (container_network.py), which teardown puts back.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

from container_test import compose_files, container_base, container_network, container_stand_ins
from container_test.container_steps import StepFailed

ROOT = Path(__file__).resolve().parents[2]
# Debian packages podman needs here (bookworm: podman 4.3, no `podman compose`); chromium
# runs the browser tests of the suite.
APT_PACKAGES = tuple(
    [
        "podman",
        "runc",
        "conmon",
        "netavark",
        "aardvark-dns",
        "iptables",
        "slirp4netns",
        "fuse-overlayfs",
        "uidmap",
        "catatonit",
        "golang-github-containers-common",
        "mmdebstrap",
        "chromium",
    ]
)
PODMAN_COMPOSE_REQUIREMENTS = Path(__file__).resolve().parent / "podman-compose-requirements.txt"
BUILD_LABEL = "org.obo-demo.test-containers=1"  # on every image this test builds


def docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def containers_conf(nofile_hard: int, nproc_hard: int) -> str:
    """podman's settings for this kind of machine (no systemd, cgroup v1 and v2 mixed, root
    without CAP_SYS_RESOURCE): containers get at most the limits podman itself has, since
    podman's default of 1048576 open files cannot be granted here; runc, as crun refuses
    hybrid cgroups; cgroupfs and a file event log, as there is no systemd."""
    nofile = min(nofile_hard, 1048576)
    nproc = min(nproc_hard, 32768)
    return (
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
        "[network]\n"
        'network_backend = "netavark"\n'
    )


def _hard_limit(which: int) -> int:
    hard = resource.getrlimit(which)[1]
    return hard if hard != resource.RLIM_INFINITY else 1 << 30


class Engine:
    """What both engines share; ``compose`` and ``engine`` are the two command prefixes."""

    name = ""
    engine: ClassVar[list[str]] = []

    def __init__(self, steps, project: str, compose_file: Path, env: dict[str, str], run_dir: Path):
        self.steps = steps
        self.project = project
        self.compose_file = compose_file
        # More files on top (docker-compose.scale.yml), as `-f A -f B` merges them.
        self.compose_files = [compose_file]
        self.env = env  # for every engine and compose command
        self.run_dir = run_dir
        self.empty_env_file = run_dir / "empty.env"  # a developer's .env is not the demo's defaults
        self.empty_env_file.write_text("")

    # -- what the caller drives ---------------------------------------------------------

    def prepare(self) -> None:
        """Whatever must be there before a build."""

    def prepare_scaled(self) -> None:
        """Whatever the scaled layout's images need before a build (its official images)."""

    def files_arguments(self) -> list[str]:
        return [argument for path in self.compose_files for argument in ("-f", str(path))]

    def lay_over(self, override: Path, settings: dict[str, str]) -> None:
        """Compose with ``override`` on top of the files so far, and ``settings`` for both
        (docker-compose.https.yml and its OIDC_ISSUER, LOCAL_TLS_DIR)."""
        self.compose_files.append(override)
        self.env = {**self.env, **settings}

    def build(self, services: list[str]) -> None:
        self._compose("build", timeout=600)

    def start(self, service: str) -> None:
        self._compose("up", "-d", "--no-deps", "--no-build", service, timeout=180)

    def stop(self, volumes: bool) -> None:
        self._compose("down", *(["-v"] if volumes else []), timeout=180)

    def container(self, service: str) -> str:
        found = self._engine_out(
            "ps",
            "-a",
            "--filter",
            f"label=com.docker.compose.project={self.project}",
            "--filter",
            f"label=com.docker.compose.service={service}",
            "--format",
            "{{.Names}}",
        ).split()
        if len(found) != 1:
            raise StepFailed(f"expected one container of {service} in project {self.project}, found {found}")
        return found[0]

    def state(self, container: str) -> str:
        return self._engine_out("inspect", "--format", "{{.State.Status}}", container).strip()

    def healthcheck(self, container: str) -> tuple[bool, str]:
        raise NotImplementedError

    def exec_python(self, container: str, code: str) -> str:
        return self.steps.run([*self.engine, "exec", container, "python", "-c", code], env=self.env, timeout=60).output

    def logs(self, container: str, lines: int = 40) -> str:
        try:
            done = subprocess.run(
                [*self.engine, "logs", "--tail", str(lines), container],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            return "(no log: the engine did not answer within 60 s)"
        return (done.stdout + done.stderr).rstrip()

    def project_containers(self) -> list[str]:
        return self._listed("ps", "-a", "--format", "{{.Names}}")

    def leftovers(self) -> dict[str, list[str]]:
        """What of the project still exists: containers, volumes, networks."""
        return {
            "containers": self.project_containers(),
            "volumes": self._listed("volume", "ls", "--format", "{{.Name}}"),
            "networks": self._listed("network", "ls", "--format", "{{.Name}}"),
        }

    def teardown(self) -> dict[str, list[str]]:
        """Remove everything of the project; return what could not be removed."""
        if not shutil.which(self.engine[0]):
            return {}  # never installed: nothing of the project can exist
        if shutil.which(self.compose_command()[0]):
            self._compose("down", "-v", "--remove-orphans", timeout=180, check=False)
        left = self.leftovers()
        for kind, command in (("containers", ("rm", "-f", "-v")), ("volumes", ("volume", "rm", "-f"))):
            if left[kind]:
                self.steps.run([*self.engine, *command, *left[kind]], env=self.env, timeout=120, check=False)
        if left["networks"]:
            self.steps.run([*self.engine, "network", "rm", *left["networks"]], env=self.env, timeout=120, check=False)
        self.remove_build_leftovers()
        return {kind: names for kind, names in self.leftovers().items() if names}

    def remove_build_leftovers(self) -> None:
        """Images of this test that a newer build left without a name (the named images
        and the layer cache stay, so the next run is fast)."""

    # -- helpers ------------------------------------------------------------------------

    def compose_command(self, *args: str) -> list[str]:
        raise NotImplementedError

    def _compose(self, *args: str, timeout: float, check: bool = True):
        command = self.compose_command(*args)
        what = f"{Path(command[0]).name} {' '.join(args)}"
        return self.steps.run(command, env=self.env, cwd=ROOT, timeout=timeout, check=check, what=what)

    def _engine_out(self, *args: str) -> str:
        done = subprocess.run([*self.engine, *args], env=self.env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise StepFailed(f"`{' '.join([*self.engine, *args])}` exited {done.returncode}", done.stderr.strip())
        return done.stdout

    def _listed(self, *command: str) -> list[str]:
        label = f"label=com.docker.compose.project={self.project}"
        return self._engine_out(*command, "--filter", label).split()


class Podman(Engine):
    name = "podman"
    engine: ClassVar[list[str]] = ["podman"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.venv = ROOT / ".run" / "podman-compose"
        self.conf = ROOT / ".run" / "podman" / "containers.conf"
        self.env = {**self.env, "CONTAINERS_CONF": str(self.conf)}
        self.conf.parent.mkdir(parents=True, exist_ok=True)  # before any podman command, teardown's too
        self.conf.write_text(containers_conf(_hard_limit(resource.RLIMIT_NOFILE), _hard_limit(resource.RLIMIT_NPROC)))
        self.network_before: container_network.Snapshot | None = None

    def prepare(self) -> None:
        with self.steps.step("podman and its tools (Debian packages)"):
            self._install_packages()
        with self.steps.step("podman-compose (pinned, in .run/podman-compose)"):
            self._install_podman_compose()
        self.network_before = container_network.snapshot()  # before podman first runs a container
        with self.steps.step(f"base image {container_base.IMAGE} (a local stand-in)"):
            if self._base_is_current():
                self.steps.say("    cached")
            else:
                container_base.build(self.steps, self.engine, self.env)

    def prepare_scaled(self) -> None:
        with self.steps.step("stand-ins for the official redis and haproxy images (Debian's packages)"):
            container_stand_ins.build(self.steps, self.engine, self.env)

    def _install_packages(self) -> None:
        missing = [p for p in APT_PACKAGES if not _installed(p)]
        if not missing:
            self.steps.say("    all installed")
            return
        if os.geteuid() != 0:
            raise StepFailed(f"not root: install these Debian packages first: {' '.join(missing)}")
        self.steps.say(f"    installing {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        self.steps.run(["apt-get", "update", "-qq"], env=env, timeout=300)
        self.steps.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env, timeout=600)

    def _install_podman_compose(self) -> None:
        wanted = hashlib.sha256(PODMAN_COMPOSE_REQUIREMENTS.read_bytes()).hexdigest()
        stamp = self.venv / ".installed"
        if stamp.exists() and stamp.read_text() == wanted and (self.venv / "bin" / "podman-compose").exists():
            self.steps.say("    installed")
            return
        shutil.rmtree(self.venv, ignore_errors=True)
        self.steps.run([sys.executable, "-m", "venv", str(self.venv)], timeout=120)  # from the base interpreter
        pip = [str(self.venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        self.steps.run([*pip, "-r", str(PODMAN_COMPOSE_REQUIREMENTS)], timeout=300)
        stamp.write_text(wanted)

    def _base_is_current(self) -> bool:
        done = subprocess.run(
            ["podman", "image", "inspect", "--format", "{{json .Labels}}", container_base.IMAGE],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            return False
        labels = json.loads(done.stdout or "null") or {}
        return all(labels.get(name) == value for name, value in container_base.LABELS.items())

    def files_arguments(self) -> list[str]:
        """podman-compose 1.6 appends an override's ``healthcheck.test`` to the base's
        instead of replacing it, as the compose specification says: it gets one file,
        merged by the specification's rules (compose_files.py)."""
        if len(self.compose_files) == 1:
            return super().files_arguments()
        return ["-f", str(compose_files.write_merged(self.compose_files, self.run_dir / "compose-merged.yml"))]

    def compose_command(self, *args: str) -> list[str]:
        return [
            str(self.venv / "bin" / "podman-compose"),
            "--in-pod",
            "false",
            "--env-file",
            str(self.empty_env_file),
            "-p",
            self.project,
            *self.files_arguments(),
            "--podman-build-args",
            f"--pull=never --label={BUILD_LABEL}",
            *args,
        ]

    def build(self, services: list[str]) -> None:
        """The first image alone, then the others in parallel. Built all at once, each
        image makes its own copy of the layers they share (FROM, ENV, WORKDIR), and the
        next build finds its cache on another copy and rebuilds half of them."""
        self._compose("build", services[0], timeout=600)
        if services[1:]:
            self._compose("build", *services[1:], timeout=600)

    def healthcheck(self, container: str) -> tuple[bool, str]:
        done = subprocess.run(
            ["podman", "healthcheck", "run", container], env=self.env, capture_output=True, text=True, timeout=60
        )
        return done.returncode == 0, (done.stdout + done.stderr).strip()

    def remove_build_leftovers(self) -> None:
        self.steps.run(
            ["podman", "image", "prune", "-f", "--filter", f"label={BUILD_LABEL}"],
            env=self.env,
            timeout=120,
            check=False,
        )

    def teardown(self) -> dict[str, list[str]]:
        left = super().teardown()
        if self.network_before is None or left:
            return left
        if self._engine_out("ps", "-q").strip():
            self.steps.say("    other podman containers run: the host's networking is left as it is")
            return left
        for done in container_network.restore(self.network_before):
            self.steps.say(f"    {done}")
        return left


class Docker(Engine):
    name = "docker"
    engine: ClassVar[list[str]] = ["docker"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60).returncode == 0
        self.compose = ["docker", "compose"] if plugin else ["docker-compose"]

    def compose_command(self, *args: str) -> list[str]:
        return [
            *self.compose,
            "--env-file",
            str(self.empty_env_file),
            "-p",
            self.project,
            *self.files_arguments(),
            *args,
        ]

    def healthcheck(self, container: str) -> tuple[bool, str]:
        """Run the container's own healthcheck command now (Docker also runs it on its own)."""
        test = json.loads(self._engine_out("inspect", "--format", "{{json .Config.Healthcheck.Test}}", container))
        argv = test[1:] if test[0] == "CMD" else ["sh", "-c", test[1]]
        done = subprocess.run(
            ["docker", "exec", container, *argv], env=self.env, capture_output=True, text=True, timeout=60
        )
        return done.returncode == 0, (done.stdout + done.stderr).strip()

    def remove_build_leftovers(self) -> None:
        self.steps.run(
            ["docker", "image", "prune", "-f", "--filter", f"label=com.docker.compose.project={self.project}"],
            env=self.env,
            timeout=120,
            check=False,
        )


def _installed(package: str) -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.endswith("installed") and "not-installed" not in done.stdout
