"""An https issuer, as every real tenant has: mock-idp serves TLS with a certificate of the
local CA (local_stack/local_tls.py), the three services trust that CA in addition to the
public roots, and the terminal tools work when SSL_CERT_FILE/REQUESTS_CA_BUNDLE name its
``ca.pem`` (docs/configuration.md, An https issuer)."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest
import requests
from backend_client import assert_flow_works, call_source
from browser_user import page_text, web_app_call, web_app_sign_in
from demo_tenant import TIMEOUT
from terminal_tools import run_tool


@pytest.fixture(scope="module")
def ca_file(https_stack) -> str:
    """The local CA alone, as the docs tell a person to name it."""
    return str(Path(https_stack["mock-idp"].service.env["REQUESTS_CA_BUNDLE"]).with_name("ca.pem"))


def test_discovery_names_https_endpoints_only(https_stack):
    assert https_stack.issuer.startswith("https://localhost:")
    metadata = requests.get(https_stack.issuer + ".well-known/openid-configuration", timeout=TIMEOUT).json()
    assert metadata["issuer"] == https_stack.issuer
    urls = [value for value in metadata.values() if isinstance(value, str) and "://" in value]
    assert urls
    assert all(url.startswith(https_stack.issuer) for url in urls), urls


def test_without_the_local_ca_the_certificate_is_refused(https_stack):
    # Verification stays on: the public roots alone do not vouch for the mock.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https_stack.issuer + ".well-known/openid-configuration", verify=certifi.where(), timeout=TIMEOUT)


def test_the_tutorial_works_against_the_https_issuer(https_stack):
    contacts = assert_flow_works(https_stack)
    assert contacts


def test_the_web_app_logs_in_and_calls_through_the_https_issuer(https_stack):
    browser = requests.Session()
    assert web_app_sign_in(https_stack, browser).status_code == 302
    called = web_app_call(https_stack, browser)
    assert called.status_code == 200, page_text(called)
    assert "a fresh exchange" in page_text(called)


def test_make_tokens_trusts_the_ca_named_by_the_environment(https_stack, ca_file):
    trusting = {"REQUESTS_CA_BUNDLE": ca_file, "SSL_CERT_FILE": ca_file}
    done = run_tool(https_stack, "workshop.demo_tokens", env=trusting)
    assert done.returncode == 0, done.stderr
    access_token = done.stdout.split("ACCESS_TOKEN=", 1)[1].split()[0].strip("'\"")
    assert call_source(https_stack, "/api/me", access_token).status_code == 200


def test_make_tokens_without_the_ca_says_so(https_stack):
    public_roots = {"REQUESTS_CA_BUNDLE": certifi.where(), "SSL_CERT_FILE": certifi.where()}
    done = run_tool(https_stack, "workshop.demo_tokens", env=public_roots)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "certificate" in done.stderr.lower(), done.stderr
    assert "SSL_CERT_FILE=$PWD/.run/tls/ca.pem" in done.stderr  # and what to do about it
    assert "Traceback" not in done.stderr


def test_make_walkthrough_without_the_ca_says_what_to_trust(https_stack):
    public_roots = {"REQUESTS_CA_BUNDLE": certifi.where(), "SSL_CERT_FILE": certifi.where()}
    done = run_tool(https_stack, "workshop.walkthrough", env=public_roots)
    assert done.returncode == 1
    assert "SSL_CERT_FILE=$PWD/.run/tls/ca.pem" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_make_walkthrough_runs_the_five_steps_over_https(https_stack, ca_file):
    done = run_tool(https_stack, "workshop.walkthrough", env={"REQUESTS_CA_BUNDLE": ca_file, "SSL_CERT_FILE": ca_file})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Refresh tokens" in done.stdout
    assert https_stack.issuer + "oauth/token" in done.stdout
