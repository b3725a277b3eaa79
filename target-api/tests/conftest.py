from __future__ import annotations

from pathlib import Path

import pytest

from obo_testing import FakeNetwork, TokenFactory, serve_identity_provider
from target_api import create_app
from target_api.settings import Settings

AUDIENCE = "https://target-api.example.com"
SOURCE_AUDIENCE = "https://source-api.example.com"
INTERNAL = "http://mock-idp:9000/"
ALICE = "auth0|65f1a2b3c4d5e6f708091a01"
BOB = "auth0|65f1a2b3c4d5e6f708091a02"
SEED = Path(__file__).resolve().parent.parent / "contacts.yaml"


@pytest.fixture
def factory() -> TokenFactory:
    """Signs Target API tokens, as an exchange would issue them."""
    return TokenFactory(audience=AUDIENCE, scope="read:contacts", kid="idp-key-1")


@pytest.fixture
def network(factory):
    """Under every requests session for the test: the provider's discovery and JWKS."""
    with FakeNetwork().installed() as network:
        serve_identity_provider(network, factory, internal_url=INTERNAL)
        yield network


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        issuer="http://localhost:9000/",
        idp_internal_url=INTERNAL,
        audience=AUDIENCE,
        database=tmp_path / "target-api.sqlite3",
        seed_file=SEED,
        leeway=30,
        unknown_kid_interval=30,
    )


@pytest.fixture
def app(network, settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def bearer(factory):
    """Authorization header for a Target API token of ``sub`` with ``scope``."""

    def header(sub: str = ALICE, scope: str = "read:contacts", **claims) -> dict:
        return {"Authorization": "Bearer " + factory.issue(sub=sub, scope=scope, **claims)}

    return header
