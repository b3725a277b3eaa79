"""Code and JSON on the pages a class projects read at the text's size, not the 13px
browsers give the bare "monospace" keyword; and no page's icon is a 404."""

from __future__ import annotations

import pytest
import requests
from browser_support import needs_chromium, require_browser
from demo_tenant import TIMEOUT

sync_api = require_browser()
pytestmark = needs_chromium

SMALLEST = 14.0  # px


def font_sizes(page, selector: str) -> list[float]:
    sizes = page.eval_on_selector_all(selector, "nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize))")
    assert sizes, f"nothing matches {selector}"
    return sizes


@pytest.mark.parametrize(
    ("service", "path", "selectors"),
    [
        ("web-app", "/troubleshooting", (".guide pre code", ".guide p code")),
        ("mock-idp", "/logs", ("code.type", "pre.raw")),
    ],
)
def test_code_and_json_are_at_least_14px(stack, page, service, path, selectors):
    # One entry in the tenant log at least: a refused refresh.
    refused = {"grant_type": "refresh_token", "refresh_token": "x"}
    requests.post(stack.issuer + "oauth/token", data=refused, timeout=TIMEOUT)
    page.goto(stack[service].url + path)
    for selector in selectors:
        smallest = min(font_sizes(page, selector))
        assert smallest >= SMALLEST, f"{service}{path}: {selector} at {smallest}px"


@pytest.mark.parametrize("service", ["web-app", "mock-idp"])
def test_the_favicon_answers(stack, service):
    icon = requests.get(stack[service].url + "/favicon.ico", timeout=TIMEOUT)
    assert icon.status_code == 200
    assert icon.headers["Content-Type"].startswith("image/svg+xml")
