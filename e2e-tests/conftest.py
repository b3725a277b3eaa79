"""mock-idp as a real gunicorn process, started once for the session by scripts/launcher.py.

Set E2E_MOCK_IDP_URL to test a server that is already running instead (for example the
one `make up` started); the restart tests are then skipped. That server's database must
not hold Alice's consent yet: her first login is expected to show the consent page. The
tests change its tenant through the Management API and reset it to the tenant file's
state when they end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import launcher  # noqa: E402  (found through the path set just above)
from idp_http import Management  # noqa: E402


@dataclass
class MockIdp:
    url: str  # no trailing slash
    service: launcher.Service | None = None
    log: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return self.url + "/"

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
            launcher.stop(self.process)

    def restart(self) -> None:
        """Stop the server and start it again on the same port and database."""
        self.stop()
        self.start()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def mock_idp(tmp_path_factory):
    external = os.environ.get("E2E_MOCK_IDP_URL")
    if external:
        yield MockIdp(url=external.rstrip("/"))
        return

    directory = tmp_path_factory.mktemp("mock-idp")
    port = _free_port()
    service = launcher.Service(
        "mock-idp",
        "mock-idp",
        "mock_idp.wsgi:app",
        port,
        env={
            # Tokens name this issuer, and tenant.yaml derives the Management API from it.
            "MOCK_IDP_ISSUER": f"http://localhost:{port}/",
            "MOCK_IDP_DATABASE": str(directory / "idp.sqlite3"),
            # More than one worker, whatever the caller's environment says: shared state is tested.
            "MOCK_IDP_WORKERS": "2",
        },
    )
    server = MockIdp(url=service.url, service=service, log=directory / "mock-idp.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def restart_mock_idp(mock_idp):
    """Restart the server process on the same database; only for a server this suite started."""
    if mock_idp.service is None:
        pytest.skip("E2E_MOCK_IDP_URL names a server this suite did not start, so it cannot restart it")
    return mock_idp.restart


@pytest.fixture
def management(mock_idp) -> Management:
    """A Management API caller with a token of its own, fetched for each test."""
    return Management(mock_idp.issuer)
