import os

import pytest

from obo_testing import FakeNetwork
from web_app import create_app
from web_app.settings import Settings

from .browser import Browser
from .fakes import ISSUER, OPERATOR_SECRET, SOURCE_API_URL, FakeIdentityProvider, FakeSourceApi

INTERNAL_IDP = "http://idp-internal.test/"
SETTING_PREFIXES = ("WEB_APP_", "OIDC_", "IDP_", "SOURCE_API_", "TOKEN_LEEWAY")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Settings come from the arguments of each test, never from the shell that runs them."""
    for name in os.environ:
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
def network():
    """Under every requests session for the test: the stand-ins below, served by host."""
    with FakeNetwork().installed() as network:
        yield network


@pytest.fixture
def idp(network):
    fake = FakeIdentityProvider()
    network.serve(ISSUER, fake.app)
    network.serve(INTERNAL_IDP, fake.app)  # the same provider at its back-channel address
    return fake


@pytest.fixture
def source_api(network, idp):
    fake = FakeSourceApi(idp)
    network.serve(SOURCE_API_URL, fake.app)
    return fake


@pytest.fixture
def settings(tmp_path):
    return Settings(
        issuer=ISSUER,
        idp_internal_url=INTERNAL_IDP,
        source_api_url=SOURCE_API_URL,
        data_dir=tmp_path / "instance",
        troubleshooting_file=tmp_path / "troubleshooting.md",
        operator_secret=OPERATOR_SECRET,
    )


@pytest.fixture
def app(settings, idp, source_api):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def browser(client, idp):
    return Browser(client, idp)


@pytest.fixture
def logged_in(browser):
    browser.log_in()
    return browser
