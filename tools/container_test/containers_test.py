"""make test-containers: build the four images, run docker-compose.yml, test the containers.

Where a Docker engine answers (`docker info`) this uses Docker Compose; elsewhere podman
with podman-compose, installed here when missing (Debian packages, and podman-compose
pinned in .run/podman-compose), on a local stand-in for python:3.11-slim
(container_test/container_base.py) since no registry can be pulled from. Then:

1. the images are built from docker-compose.yml (no pulls under podman);
2. the services start one by one in depends_on order, each healthy (its healthcheck
   polled) before the next: podman-compose ignores `condition: service_healthy` with
   podman < 4.6, and podman runs no healthcheck by itself;
3. checks: every healthcheck and published /healthz; one issuer from the host and from
   inside each back end; the web app's login redirect (container_test/container_checks.py);
4. the e2e suite with E2E_EXTERNAL=1 against the containers, browser tests included;
5. a restart with the volumes kept: refresh tokens, consents, keys and sessions survive;
6. an https issuer: the stack again, fresh volumes, with docker-compose.https.yml laid over
   and certificates of a CA made for this run (local_stack/local_tls.py, as `make up` makes
   them): mock-idp serves TLS, discovery is trusted through the CA only, and the tutorial's
   steps 1-4 pass through the web app (container_checks.https_issuer);
7. the scaled layout (docker-compose.scale.yml on top): Redis, HAProxy and three Source API
   replicas, from the official images' stand-ins under podman
   (container_test/container_stand_ins.py); /healthz names the three in turn, each user's
   simultaneous first calls make one exchange across them, Redis holds nothing readable
   (container_test/container_scale_checks.py);
8. teardown, whatever happened: every container, network and volume of the test's
   project, unnamed images its builds left, and IP forwarding as it was. The named images
   and the base stay cached, so the next run is fast.

Each step prints its name and time; a failure names the step and shows the engine's error
and the end of the failing container's log. Logs of every command: .run/containers-test/.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

import yaml

from container_test import compose_files
from container_test import container_checks as checks
from container_test import container_scale_checks as scale_checks
from container_test.container_engine import Docker, Podman, docker_answers
from container_test.container_steps import StepFailed, Steps
from local_stack import local_tls

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCALE_FILE = ROOT / "docker-compose.scale.yml"
HTTPS_OVERRIDE = ROOT / "docker-compose.https.yml"
RUN_DIR = ROOT / ".run" / "containers-test"
PROJECT = "obo-containers-test"
# The e2e suite exchanges and refreshes far more often than a person (e2e-tests/conftest.py).
SETTINGS = {"EXCHANGE_RATE_LIMIT": "100000", "REFRESH_RATE_LIMIT": "100000", "SOURCE_API_USER_EXCHANGE_LIMIT": "100000"}
HEALTHY_WITHIN = 120  # seconds for one service to become healthy after it starts
POLL = 0.5  # seconds between two healthcheck runs while waiting


def start_order(compose: dict) -> list[str]:
    """Services with each after those it depends on; otherwise in the file's order."""
    services = compose["services"]
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"depends_on cycle: {' -> '.join((*path, name))}")
        needs = services[name].get("depends_on") or []
        for needed in needs if isinstance(needs, list) else list(needs):
            visit(needed, (*path, name))
        order.append(name)

    for name in services:
        visit(name, ())
    return order


_DEFAULTED = re.compile(r"\$\{\w+:-(\d+)\}")


def published_ports(compose: dict) -> dict[str, int]:
    """Each service's first published host port ("HOST:CONTAINER"). A host port given as
    ``${VARIABLE:-default}`` is its default: the test runs with none of the compose file's
    variables set (``compose_environment``)."""
    ports = {}
    for name, service in compose["services"].items():
        for mapping in service.get("ports") or []:
            host, _, container = _DEFAULTED.sub(r"\1", str(mapping)).rpartition(":")
            if host and container:
                ports[name] = int(host.rsplit(":", 1)[-1])
                break
    return ports


def compose_environment(environ: dict[str, str], compose_text: str, settings: dict[str, str]) -> dict[str, str]:
    """The caller's environment less every variable the compose file reads (a developer's
    OIDC_ISSUER must not point the test elsewhere), plus the test's own settings."""
    read = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", compose_text))
    return {**{k: v for k, v in environ.items() if k not in read}, **settings}


def https_issuer_url(ports: dict[str, int]) -> str:
    """The https issuer of the test's second layout: mock-idp's published port on localhost."""
    return f"https://localhost:{ports['mock-idp']}/"


def wait_healthy(engine, steps: Steps, container: str, within: float = HEALTHY_WITHIN) -> None:
    deadline = time.monotonic() + within
    runs = 0
    while True:
        healthy, said = engine.healthcheck(container)
        runs += 1
        if healthy:
            steps.say(f"    {container} healthy (healthcheck run {runs} time(s))")
            return
        state = engine.state(container)
        if state not in ("running", "created", "configured", "initialized"):
            raise StepFailed(f"{container} stopped ({state}) before it was healthy", said, container)
        if time.monotonic() >= deadline:
            raise StepFailed(f"{container} is not healthy within {within} s", said, container)
        time.sleep(POLL)


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class ContainersTest:
    def __init__(self, steps: Steps, engine, compose: dict, scaled: dict | None = None):
        self.steps = steps
        self.engine = engine
        self.scaled = scaled
        self.order = start_order(compose)
        self.ports = published_ports(compose)
        self.idp_url = f"http://localhost:{self.ports['mock-idp']}/"
        self.web_url = f"http://localhost:{self.ports['web-app']}"
        self.containers: dict[str, str] = {}

    def run(self) -> None:
        steps, engine = self.steps, self.engine
        engine.prepare()
        with steps.step("nothing left of an earlier run; ports free"):
            left = engine.teardown() if any(engine.leftovers().values()) else {}
            if left:
                raise StepFailed(f"an earlier run left {left} and it cannot be removed")
            taken = [p for p in self.ports.values() if port_taken(p)]
            if taken:
                raise StepFailed(f"ports {taken} are in use: stop what holds them (`make down`?)")
        with steps.step("build the four images"):
            engine.build(self.order)
        self.start_stack()
        with steps.step("healthchecks and published /healthz"):
            checks.healthchecks(engine, self.containers)
            checks.published_healthz(self.ports)
        with steps.step("one issuer: host, back ends, the web app's login redirect"):
            issuer = checks.one_issuer(engine, self.containers, self.idp_url, self.web_url)
        with steps.step("e2e suite against the containers (E2E_EXTERNAL=1)"):
            # The suite's default URLs are the published ports; a caller's E2E_* would point elsewhere.
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("E2E_")}, "E2E_EXTERNAL": "1"}
            steps.run(
                [sys.executable, "-m", "pytest", "-q", "-rs"], cwd=ROOT / "e2e-tests", env=env, timeout=900, stream=True
            )
        with steps.step("state before the restart"):
            state = checks.before(issuer, self.web_url)
        with steps.step("stop the stack, volumes kept"):
            engine.stop(volumes=False)
            self.containers = {}
        self.start_stack()
        with steps.step("after the restart: refresh token, consent, keys, session"):
            checks.after(state, issuer, self.web_url)
        self.https_issuer()
        if self.scaled is not None:
            self.run_scaled(issuer)

    def https_issuer(self) -> None:
        """The same images behind an https issuer, as `make up` runs them with one."""
        files, env = list(self.engine.compose_files), dict(self.engine.env)
        with self.steps.step("https issuer: stack down (volumes too), certificates of a CA of the test's own"):
            self.engine.stop(volumes=True)
            self.containers = {}
            issuer = https_issuer_url(self.ports)
            tls = local_tls.for_containers(issuer, RUN_DIR)
            self.engine.lay_over(HTTPS_OVERRIDE, {"OIDC_ISSUER": issuer, "LOCAL_TLS_DIR": str(tls)})
        self.start_stack()
        with self.steps.step("https issuer: TLS trusted through the CA only, steps 1-4 through the web app"):
            checks.https_issuer(self.engine, self.containers, issuer, self.web_url, tls / local_tls.CA_NAME)
        with self.steps.step("https issuer: stack down (volumes too), back to plain http"):
            self.engine.stop(volumes=True)
            self.containers = {}
            self.engine.compose_files, self.engine.env = files, env

    def run_scaled_only(self) -> None:
        self.engine.prepare()
        with self.steps.step("nothing left of an earlier run; ports free"):
            left = self.engine.teardown() if any(self.engine.leftovers().values()) else {}
            if left:
                raise StepFailed(f"an earlier run left {left} and it cannot be removed")
        self.run_scaled(self.idp_url)

    def run_scaled(self, issuer: str) -> None:
        steps, engine, compose = self.steps, self.engine, self.scaled
        with steps.step("stop the stack, volumes removed"):
            engine.stop(volumes=True)
            self.containers = {}
        engine.prepare_scaled()
        engine.compose_files.append(SCALE_FILE)
        self.order = start_order(compose)
        with steps.step("build the scaled layout's images (the balancer, three replicas)"):
            # One replica first, alone: the two others then find every layer in its cache.
            built = [name for name in self.order if compose["services"][name].get("build")]
            engine.build(sorted(built, key=lambda name: name != "source-api-1"))
        self.start_stack()
        source_url = f"http://localhost:{self.ports['source-api']}"
        with steps.step("scaled: healthchecks and published /healthz"):
            checks.healthchecks(engine, self.containers)
            checks.published_healthz(self.ports)
        with steps.step("scaled: /healthz names three replicas in turn"):
            steps.say(f"    {', '.join(scale_checks.instances_in_turn(source_url))}")
        with steps.step("scaled: simultaneous first calls make one exchange per user across the replicas"):
            tokens = scale_checks.one_exchange_per_user(issuer, source_url, self.web_url)
        with steps.step("scaled: Redis holds no token and no JWT"):
            keys = scale_checks.redis_holds_nothing_readable(engine, self.containers["redis"], tokens)
            steps.say(f"    {keys} key(s) read, every value sealed")

    def start_stack(self) -> None:
        for service in self.order:
            with self.steps.step(f"start {service}, wait until healthy"):
                self.engine.start(service)
                container = self.engine.container(service)
                self.containers[service] = container
                wait_healthy(self.engine, self.steps, container)


def report(failure: BaseException, steps: Steps, engine) -> None:
    print("=" * 72, flush=True)
    print(f"test-containers FAILED at step: {steps.failed}")
    if isinstance(failure, StepFailed | KeyboardInterrupt):
        print(f"  {str(failure) or 'interrupted'}")
    else:  # not a check that failed: the test's own code did, show where
        traceback.print_exception(failure, file=sys.stdout)
    detail = getattr(failure, "detail", "")
    if detail:
        print("--- what the engine or the command said:")
        print(detail)
    container = getattr(failure, "container", None)
    try:
        shown = [container] if container else engine.project_containers()
    except StepFailed:
        shown = []
    for name in shown:
        print(f"--- the end of {name}'s log:")
        print(engine.logs(name))
    print("=" * 72, flush=True)


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"interrupted by signal {signum}")


def main(argv: list[str]) -> int:
    """``--only-scaled``: the scaled layout alone (step 7), when working on it."""
    if argv not in ([], ["--only-scaled"]):
        print("usage: containers_test.py [--only-scaled]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)  # teardown runs when CI ends the run too
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    steps = Steps(RUN_DIR)
    text, scale_text = COMPOSE_FILE.read_text(), SCALE_FILE.read_text()
    compose = yaml.safe_load(text)
    scaled = compose_files.merged(compose, yaml.safe_load(scale_text))
    scale_text += HTTPS_OVERRIDE.read_text()  # its variables are the test's to set too
    # An operator secret of the test's own, for the containers and for the e2e suite run
    # against them (it reads OPERATOR_SECRET from this process's environment); the replicas'
    # shared cache key, made for this run (docker-compose.scale.yml requires one).
    operator = {"OPERATOR_SECRET": secrets.token_urlsafe(24)}
    settings = {**SETTINGS, **operator, "SOURCE_API_TOKEN_CACHE_KEY": secrets.token_urlsafe(32)}
    env = compose_environment(dict(os.environ), text + scale_text, settings)
    os.environ.update(operator)
    engine_type = Docker if docker_answers() else Podman
    engine = engine_type(steps, PROJECT, COMPOSE_FILE, env, RUN_DIR)
    steps.say(f"engine: {engine.name} (project {PROJECT}; command logs in {RUN_DIR.relative_to(ROOT)}/)")
    failed: BaseException | None = None
    try:
        test = ContainersTest(steps, engine, compose, scaled)
        if argv:
            test.run_scaled_only()
        else:
            test.run()
    except (Exception, KeyboardInterrupt) as failure:  # whatever it was, report it and tear down
        failed = failure
        report(failure, steps, engine)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)  # a second interruption must not stop the teardown
        try:
            with steps.step("teardown: containers, networks, volumes, build leftovers"):
                left = engine.teardown()
                if left:
                    raise StepFailed(f"teardown could not remove {left}")
        except Exception as failure:
            print(f"  {failure}", flush=True)
            failed = failed or failure
    print("\nstep times:")
    for name, took in steps.done:
        print(f"  {took:7.1f} s  {name}")
    print(f"  {steps.clock() - steps.started:7.1f} s  in all ({engine.name})")
    print(f"test-containers: {len(steps.done)} passed, {1 if failed else 0} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
