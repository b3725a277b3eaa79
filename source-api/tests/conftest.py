from __future__ import annotations

import threading

import pytest
import requests
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from obo_common import IdentityProviderEndpoints
from obo_testing import Clock, FakeNetwork, TokenFactory, serve_identity_provider
from source_api import create_app
from source_api.keep_alive import Answer, OriginPool
from source_api.settings import Settings
from source_api.token_exchange import TOKEN_EXCHANGE

ISSUER = "http://localhost:9000/"
INTERNAL = "http://mock-idp:9000/"
SOURCE_AUDIENCE = "https://source-api.example.com"
TARGET_AUDIENCE = "https://target-api.example.com"
TARGET_URL = "http://target-api.test:3002"
ALICE = "auth0|65f1a2b3c4d5e6f708091a01"
OPERATOR_SECRET = "test-operator-secret"


class TokenEndpoint:
    """The provider's token endpoint: issues target-at-1, target-at-2, ... for both grants."""

    def __init__(self):
        self.issued = 0
        self.expires_in = 3600
        self.refresh_token: str | None = "target-rt-1"
        self.scope = "read:contacts offline_access"
        self._lock = threading.Lock()

    def __call__(self, call):
        with self._lock:
            self.issued += 1
            body = {
                "access_token": f"target-at-{self.issued}",
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "scope": self.scope,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return 200, body


def grants(network: FakeNetwork) -> list[str]:
    """The grant types posted to the token endpoint, in order ("exchange" for token exchange)."""
    return [
        "exchange" if call.data["grant_type"] == TOKEN_EXCHANGE else call.data["grant_type"]
        for call in network.calls_to("POST", INTERNAL + "oauth/token")
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def factory() -> TokenFactory:
    """Signs the user's Source API tokens (step 1)."""
    return TokenFactory(
        audience=SOURCE_AUDIENCE, scope="openid profile read:profile read:contacts offline_access", kid="idp-key-1"
    )


@pytest.fixture
def token_endpoint() -> TokenEndpoint:
    return TokenEndpoint()


@pytest.fixture
def network(factory, token_endpoint, monkeypatch):
    """Under every requests session for the test: the provider's discovery, JWKS and token
    endpoint; tests route the Target API themselves."""
    with FakeNetwork().installed() as network:
        # The Target API client sends over http.client connections of its own: its requests
        # go to the same network, failing as the standard library would.
        monkeypatch.setattr(OriginPool, "request", lambda pool, *args, **kw: _send(network, pool, *args, **kw))
        idp = serve_identity_provider(network, factory, internal_url=INTERNAL)
        network.route("POST", idp.token_endpoint, token_endpoint)
        yield network


def _send(network: FakeNetwork, pool: OriginPool, method, target, body, headers, fresh=False) -> Answer:
    default = {"http": 80, "https": 443}[pool.scheme]
    origin = f"{pool.scheme}://{pool.host}" + ("" if pool.port == default else f":{pool.port}")
    timeout = (pool.connect_timeout, pool.read_timeout)
    try:
        answered = network.urlopen(method, origin + target, body=body, headers=headers, timeout=timeout)
    except NewConnectionError as refused:
        raise ConnectionRefusedError(111, str(refused)) from None
    except ReadTimeoutError:
        raise TimeoutError("timed out") from None
    return Answer(answered.status, answered.headers, answered.data)


@pytest.fixture
def session(network) -> requests.Session:
    """A real session, for code that takes one: it sends through ``network``."""
    return requests.Session()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        issuer=ISSUER,
        idp_internal_url=INTERNAL,
        audience=SOURCE_AUDIENCE,
        client_id="source-api",
        client_secret="source-api-secret",
        target_audience=TARGET_AUDIENCE,
        target_url=TARGET_URL,
        exchange_scope="read:contacts offline_access",
        renew_margin=60,
        cache_size=1000,
        connect_timeout=1.5,
        read_timeout=4.0,
        leeway=30,
        unknown_kid_interval=30,
        operator_secret=OPERATOR_SECRET,
    )


@pytest.fixture
def idp(settings, session) -> IdentityProviderEndpoints:
    return IdentityProviderEndpoints(settings.issuer, settings.idp_internal_url, session, timeout=settings.timeout)


@pytest.fixture
def app(settings, network):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()
