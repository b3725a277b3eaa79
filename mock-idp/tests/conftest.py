import copy
from pathlib import Path

import pytest
import yaml

from mock_idp import clock, create_app
from mock_idp.settings import Settings
from mock_idp.tenant import parse_tenant
from mock_idp.tenant_file import expand_environment

from .flows import ISSUER, Flows

TENANT_FILE = Path(__file__).resolve().parent.parent / "tenant.yaml"


@pytest.fixture(scope="session")
def tenant_document():
    return expand_environment(yaml.safe_load(TENANT_FILE.read_text()), environ={})


@pytest.fixture
def make_app(tmp_path, tenant_document):
    """Build an app on a fresh database; ``change(doc)`` may edit the tenant first."""

    def make(change=None, **settings):
        document = copy.deepcopy(tenant_document)
        if change:
            change(document)
        # A cheap password hash: every test's app hashes the demo users' passwords once.
        settings.setdefault("password_hash_cost", 4)
        settings = Settings(issuer=ISSUER, database=tmp_path / "idp.sqlite3", **settings)
        app = create_app(settings, parse_tenant(document, ISSUER))
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def flows(app):
    return Flows(app)


@pytest.fixture
def clock_at(monkeypatch):
    """Move the server's clock: clock_at(seconds_from_now)."""
    start = clock.now()

    def move(offset: int):
        monkeypatch.setattr(clock, "now", lambda: start + offset)

    return move


def client_named(document, client_id):
    return next(c for c in document["clients"] if c["client_id"] == client_id)


def api_named(document, identifier):
    return next(a for a in document["resource_servers"] if a["identifier"] == identifier)
