"""The three app services learn every endpoint of the identity provider from discovery.

A provider path written in their code (``"/oauth/token"``, ``"v2/logout"``...) works against
the mock and breaks against another provider, so no string literal of that code may hold
one. Comments and docstrings may name them. The two paths discovery does not list are
written once each, in web_app/settings.py, and documented in docs/configuration.md.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["web-app/web_app", "source-api/source_api", "target-api/target_api", "common/obo_common"]
PROVIDER_PATH = re.compile(
    r"(?:^|/)(?:oauth/token|authorize|userinfo|v2/logout|\.well-known/jwks\.json|oauth/revoke|api/v2)(?=[/?]|$)"
)
# (file, literal): the provider paths that discovery does not list, as documented.
DOCUMENTED = {
    ("web-app/web_app/settings.py", "api/v2/"),  # the Management API's identifier
    ("web-app/web_app/settings.py", "v2/logout"),  # logout without an end_session_endpoint
}


def literals(source: str) -> list[tuple[int, str]]:
    """Every string literal of the code, docstrings left out (f-strings in pieces)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def provider_paths(source: str) -> list[tuple[int, str]]:
    # A bare word ("userinfo", a key of Authlib's token) is not a path; one with / or ? is.
    return [
        (line, text) for line, text in literals(source) if ("/" in text or "?" in text) and PROVIDER_PATH.search(text)
    ]


def code_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", code_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_provider_path_is_written_in_the_app_services_code(path):
    relative = str(path.relative_to(ROOT))
    found = [
        f"{relative}:{line}: {text!r}"
        for line, text in provider_paths(path.read_text(encoding="utf-8"))
        if (relative, text) not in DOCUMENTED
    ]
    assert not found, "use discovery's endpoints instead: " + "; ".join(found)


@pytest.mark.parametrize(
    "code",
    [
        'URL = ISSUER + "oauth/token"',
        'url = f"{issuer}v2/logout?{query}"',
        'session.get(base + "/.well-known/jwks.json")',
        'x = "https://tenant.example.com/userinfo"',
        'base = issuer + "api/v2"',
        'revoke = "/oauth/revoke"',
        'authorize = internal_url + "authorize?" + query',
    ],
)
def test_a_provider_path_in_code_is_found(code):
    assert provider_paths(code)


@pytest.mark.parametrize(
    "code",
    [
        '"""Calls /oauth/token and /userinfo."""',
        "# the token endpoint, /oauth/token",
        'error = "unauthorized_client"',
        'claims = token.pop("userinfo")',
        'discovery = internal_url + ".well-known/openid-configuration"',
        'def f():\n    """Send the browser to /authorize."""',
    ],
)
def test_comments_docstrings_and_other_words_are_not_provider_paths(code):
    assert not provider_paths(code)
