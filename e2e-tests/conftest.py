"""The four services as real gunicorn processes, started once for the session.

Each runs from its own folder through local_stack/launcher.py, as `make up` runs them, on
free ports, with its data in a temporary folder. The identity provider's issuer is
http://localhost:<port>/ and its tenant lists the web app's callback on its port.

Set E2E_EXTERNAL=1 to test services that are already running instead (for example a
`make up` stack): the default URLs are those of `make up`, each overridable with
E2E_MOCK_IDP_URL, E2E_TARGET_API_URL, E2E_SOURCE_API_URL, E2E_WEB_APP_URL. Tests that stop,
slow or restart a process are then skipped. The suite exchanges and refreshes far more
often than a person: start that stack with the limits raised,
`EXCHANGE_RATE_LIMIT=100000 REFRESH_RATE_LIMIT=100000 SOURCE_API_USER_EXCHANGE_LIMIT=100000 make up`;
the run checks them first (external_limits.py) and stops with one message if they are low.
The tests change the tenant only through the Management API and reset it to the tenant file's state when they end.

The helpers, by who acts: browser_user (a person over HTTP: login, consent, the web app's
pages), browser_support (the same person in Chromium), backend_client (a service talking
OAuth: token requests, exchange, refresh, API calls, token checks), tenant_admin (the
Management API and the tenant log), expectations (what a refusal or a log entry must say).
demo_tenant holds the tenant file's users and clients; stack_urls every URL the tests use.

``scale_stack`` is a second stack, started only by the tests that ask for it: the Source API
as three replicas behind HAProxy with a real Redis token cache (local_stack/scale_out.py).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import browser_support
import external_limits
import local_up as local_processes
import pytest
from stack_urls import StackUrls
from tenant_admin import Management, tenant_state

from local_stack import demo_settings, launcher, local_tls, scale_out

ROOT = Path(__file__).resolve().parent.parent

MAKE_UP_PORTS = {"mock-idp": 9000, "target-api": 3002, "source-api": 3001, "web-app": 3000}


@dataclass
class Running:
    """One service of the stack, and what a test may do to its process."""

    name: str
    url: str  # no trailing slash
    service: launcher.Service | None = None
    log: Path | None = None
    process: subprocess.Popen | None = None
    paused: bool = field(default=False)

    @property
    def issuer(self) -> str:
        return self.url + "/"

    @property
    def controllable(self) -> bool:
        return self.service is not None

    def start(self) -> None:
        with self.log.open("a") as output:  # the child keeps its own copy of the descriptor
            self.process = launcher.start(self.service, Path(sys.executable).parent, output)
        try:
            launcher.wait_healthy(self.service, self.process)
            return
        except RuntimeError as error:
            launcher.stop(self.process)
            reason = str(error)
        tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])
        pytest.fail(f"{reason}\n--- end of {self.log} ---\n{tail}", pytrace=False)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            launcher.stop(self.process)

    def restart(self) -> None:
        """Stop the process and start it again on the same port and data."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the whole process group: connections are accepted, nothing answers."""
        os.killpg(self.process.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            os.killpg(self.process.pid, signal.SIGCONT)
            self.paused = False

    @contextmanager
    def reconfigured(self, **env: str):
        """The service restarted on the same port and data with ``env`` added (a setting of
        the service itself, e.g. TARGET_API_STEP_UP_*), and put back as it was after the block."""
        if self.service is None:
            pytest.skip("E2E_EXTERNAL names services this suite did not start: it cannot restart them")
        original = self.service
        self.stop()
        self.service = dataclasses.replace(original, env={**original.env, **env})
        try:
            self.start()
            yield self
        finally:
            self.stop()
            self.service = original
            self.start()

    @contextmanager
    def fault(self, kind: str):
        """The service ``stopped`` (connections refused) or ``paused`` (accepted, never
        answered) while the block runs; back to normal after it, whatever happens."""
        if kind == "stopped":
            self.stop()
        else:
            self.pause()
        try:
            yield
        finally:
            if kind == "stopped":
                self.start()
            else:
                self.resume()


@dataclass
class Stack(StackUrls):
    """The running services by name, and (from StackUrls) every URL the tests use."""

    services: dict[str, Running]

    def __getitem__(self, name: str) -> Running:
        return self.services[name]

    @property
    def operator_secret(self) -> str:
        """What the web app and the Source API take as the operator's secret."""
        web_app = self["web-app"]
        if web_app.service is None:
            return demo_settings.load().operator_secret
        return web_app.service.env["OPERATOR_SECRET"]

    def controllable(self) -> None:
        if not self["mock-idp"].controllable:
            pytest.skip("E2E_EXTERNAL names services this suite did not start: it cannot stop or slow them")

    @contextmanager
    def another(self, name: str, **env: str):
        """A second process of service ``name``, set up like the suite's but for ``env``
        (e.g. a misspelt TARGET_API_AUDIENCE): for misconfigurations of the service itself,
        which the Management API cannot make. Stopped when the block ends."""
        self.controllable()
        model = self[name]
        service = launcher.Service(
            name, model.service.directory, model.service.app, launcher.free_port(), {**model.service.env, **env}
        )
        running = Running(name, service.url, service=service, log=model.log.with_name(f"{name}-another.log"))
        running.start()
        try:
            yield running
        finally:
            running.stop()


def _external() -> Stack:
    urls = {
        name: os.environ.get(f"E2E_{name.upper().replace('-', '_')}_URL", f"http://localhost:{port}").rstrip("/")
        for name, port in MAKE_UP_PORTS.items()
    }
    return Stack({name: Running(name, url) for name, url in urls.items()})


# The suite logs in and exchanges far more often than a person (the tests of the limits
# lower them through the Management API); two identity provider workers, whatever the
# caller's environment says, so state shared between workers is tested; short timeouts,
# so the tests that slow a service down do not wait long.
SUITE_SETTINGS = {
    "mock-idp": {
        "MOCK_IDP_WORKERS": "2",
        "EXCHANGE_RATE_LIMIT": "100000",
        "REFRESH_RATE_LIMIT": "100000",
        # Every test logs in from one address; wrong passwords of many tests add up there.
        "MOCK_IDP_LOGIN_FAILURES_PER_ADDRESS": "100000",
    },
    # Every test exchanges as alice or bob: the per-user budget's own test lowers it.
    "source-api": {"SOURCE_API_READ_TIMEOUT": "2", "SOURCE_API_USER_EXCHANGE_LIMIT": "100000"},
    "web-app": {"WEB_APP_IDP_TIMEOUT": "2"},
}


@contextmanager
def started(batches: Iterable[Iterable[launcher.Service]], data: Path) -> Iterator[dict[str, Running]]:
    """The services of each batch started in turn, each answering before the next starts,
    by name; all stopped, the last started first, however the block ends."""
    running: list[Running] = []
    try:
        for batch in batches:
            for service in batch:
                one = Running(service.name, service.url, service=service, log=data / f"{service.name}.log")
                one.start()
                running.append(one)
        yield {one.name: one for one in running}
    finally:
        for one in reversed(running):
            one.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    if os.environ.get("E2E_EXTERNAL"):
        external = _external()
        problems = external_limits.too_low(external)
        if problems:
            pytest.exit(external_limits.message(external, problems), returncode=pytest.ExitCode.USAGE_ERROR)
        yield external
        return
    data = tmp_path_factory.mktemp("stack")
    ports = {name: launcher.free_port() for name in MAKE_UP_PORTS}
    with started([launcher.isolated_stack(ports, data, SUITE_SETTINGS)], data) as running:
        yield Stack(running)


SCALE_REPLICAS = 3


@pytest.fixture(scope="session")
def scale_stack(tmp_path_factory) -> Stack:
    """The scaled layout (local_stack/scale_out.py), started only for the tests that ask for it:
    a real Redis, three Source API replicas and HAProxy at the Source API's URL, beside the
    same three other services. ``stack["source-api"]`` is the balancer; each replica,
    ``load-balancer`` and ``redis`` are there by name, to stop, kill or freeze."""
    if os.environ.get("E2E_EXTERNAL"):
        pytest.skip("E2E_EXTERNAL: the suite does not start processes of its own")
    missing = scale_out.missing_programs()
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (.ci/run installs them)")
    data = tmp_path_factory.mktemp("scale-stack")
    ports = {name: launcher.free_port() for name in MAKE_UP_PORTS}
    four = launcher.isolated_stack(ports, data, SUITE_SETTINGS)
    services = scale_out.scaled(four, SCALE_REPLICAS, data / "run")
    with started(scale_out.start_batches(services), data) as running:
        yield Stack({**running, scale_out.GROUP: running[scale_out.LOAD_BALANCER]})


@pytest.fixture(scope="session")
def redis_sessions_stack(tmp_path_factory) -> Stack:
    """The four services with the web app's sessions in a real Redis (WEB_APP_SESSION_URL),
    started only for the tests that ask for it; ``redis`` is there by name."""
    if os.environ.get("E2E_EXTERNAL"):
        pytest.skip("E2E_EXTERNAL: the suite does not start processes of its own")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed (.ci/run installs it)")
    data = tmp_path_factory.mktemp("redis-sessions-stack")
    ports = {name: launcher.free_port() for name in MAKE_UP_PORTS}
    redis = scale_out.redis_service(launcher.free_port())
    sessions = {"WEB_APP_SESSION_URL": f"redis://127.0.0.1:{redis.port}/1"}
    settings = {**SUITE_SETTINGS, "web-app": {**SUITE_SETTINGS["web-app"], **sessions}}
    with started([[redis, *launcher.isolated_stack(ports, data, settings)]], data) as running:
        yield Stack(running)


@pytest.fixture(scope="session")
def https_stack(tmp_path_factory) -> Stack:
    """A second stack whose issuer is https://localhost:<port>/ (local_stack/local_tls.py):
    mock-idp serves TLS with a certificate of a CA made for this run, which the services
    trust. The tests trust it too, as a person does: REQUESTS_CA_BUNDLE and SSL_CERT_FILE
    name the public roots plus that CA while the session runs."""
    if os.environ.get("E2E_EXTERNAL"):
        pytest.skip("E2E_EXTERNAL: the suite does not start processes of its own")
    data = tmp_path_factory.mktemp("https-stack")
    ports = {name: launcher.free_port() for name in MAKE_UP_PORTS}
    issuer = f"https://localhost:{ports['mock-idp']}/"
    settings = {name: {**SUITE_SETTINGS.get(name, {}), "OIDC_ISSUER": issuer} for name in MAKE_UP_PORTS}
    settings["mock-idp"]["MOCK_IDP_ISSUER"] = issuer
    services = local_tls.secure(launcher.isolated_stack(ports, data, settings), issuer, data)
    trust = services[0].env["REQUESTS_CA_BUNDLE"]
    saved = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
    os.environ.update(REQUESTS_CA_BUNDLE=trust, SSL_CERT_FILE=trust)
    try:
        with started([services], data) as running:
            yield Stack(running)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def local_up(tmp_path_factory):
    """`make up` as local processes (local_stack/run_local.py) on free ports, beside the stack:
    for what a person does to a running `make up` (`make stop`, `make start`)."""
    if os.environ.get("E2E_EXTERNAL"):
        pytest.skip("E2E_EXTERNAL: the suite does not start processes of its own")
    with local_processes.local_up(tmp_path_factory.mktemp("local-up")) as up:
        yield up


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright, for the modules marked browser_support.needs_chromium."""
    sync_api = browser_support.require_browser()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=browser_support.CHROMIUM, args=browser_support.CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh browser profile (no cookies) and a page in it; its last screen is kept in tmp_path."""
    context = browser.new_context(viewport=browser_support.VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        page.screenshot(path=str(tmp_path / "last-page.png"))
        context.close()


@pytest.fixture(scope="session")
def mock_idp(stack) -> Running:
    return stack["mock-idp"]


@pytest.fixture
def restart_mock_idp(stack):
    """Restart the identity provider on the same database; only for a stack this suite started."""
    stack.controllable()
    return stack["mock-idp"].restart


@pytest.fixture
def management(stack) -> Management:
    """A Management API caller with a token of its own, fetched for each test."""
    return Management(stack)


@pytest.fixture
def tenant_as_found(stack):
    """Reset the tenant after the test, and check that this is the state the test found.

    Every test that changes the tenant uses it, so the tests can run in any order.
    """
    found = tenant_state(Management(stack))
    try:
        yield
    finally:
        management = Management(stack)  # a token of its own, whatever the test did
        management.reset()
    assert tenant_state(management) == found, "the tenant was not in its file's state before this test"
