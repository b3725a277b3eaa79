"""The tenant log page as a workshop projects it, in a real browser at 1280x720.

Events caused over HTTP appear without a reload (static/logs.js polls /logs/feed); an
entry opens its raw JSON; the Management API's own token requests stay hidden until the
toggle shows them; nothing is wider than the screen.
"""

from __future__ import annotations

import json
import secrets

import requests
from backend_client import exchange, failed_refresh, login_tokens
from browser_support import keep, needs_chromium, require_browser
from demo_tenant import ALICE
from tenant_admin import Management

sync_api = require_browser()
pytestmark = needs_chromium

LONGEST_CODE = "success_on_behalf_of_token_exchange"


def newest_with(stack, request_id: str) -> str:
    """The log_id of the entry carrying ``request_id``, read as a program would."""
    (entry,) = [e for e in Management(stack).logs(type="fertft") if e["details"].get("request_id") == request_id]
    return entry["log_id"]


def row(page, log_id: str):
    return page.locator(f'#entries > li[data-log-id="{log_id}"]')


def fits_the_screen(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_new_entries_appear_live_and_open_their_raw_json(stack, page):
    page.goto(stack.issuer + "logs")
    sync_api.expect(page.locator("#live-state")).to_have_text("Live")
    sync_api.expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    request_id = "browser-" + secrets.token_hex(6)
    failed_refresh(stack, request_id)  # the lookup below also writes a Management API entry
    entry = row(page, newest_with(stack, request_id))

    sync_api.expect(entry).to_be_visible()
    sync_api.expect(entry.locator("code.type")).to_have_text("fertft")
    assert page.evaluate("window.sameDocument") is True
    entry.locator("summary").click()
    raw = entry.locator("pre.raw")
    sync_api.expect(raw).to_be_visible()
    shown = json.loads(raw.inner_text())
    assert (shown["type"], shown["client_id"], shown["details"]["request_id"]) == ("fertft", "web-app", request_id)

    # The Management API's token request came before a later entry: had it been shown, it
    # would be on the page by the time that entry is.
    failed_refresh(stack, request_id + "-later")
    sync_api.expect(row(page, newest_with(stack, request_id + "-later"))).to_be_visible()
    sync_api.expect(page.locator("#entries code.type", has_text="seccft")).to_have_count(0)
    fits_the_screen(page)
    keep(page, "logs")

    page.get_by_role("link", name="show Management API entries").click()
    page.wait_for_url("**/logs?management=show")
    sync_api.expect(page.locator("#entries code.type", has_text="seccft").first).to_be_visible()


def test_pause_resume_and_a_long_event_code_on_one_line(stack, page):
    tokens, _ = login_tokens(stack, requests.Session(), ALICE[0])
    page.goto(stack.issuer + "logs?type=" + LONGEST_CODE)
    page.get_by_role("button", name="Pause").click()
    sync_api.expect(page.locator("#live-state")).to_have_text("Paused")

    assert exchange(stack, tokens["access_token"]).status_code == 200
    page.get_by_role("button", name="Resume").click()

    sync_api.expect(page.locator("#live-state")).to_have_text("Live")
    code = page.locator("#entries > li.arrived code.type").first
    sync_api.expect(code).to_have_text(LONGEST_CODE)
    box = code.bounding_box()
    line = float(code.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert box["height"] < 1.5 * line, "the event code wrapped"
    fits_the_screen(page)
    page.locator("#entries > li.arrived summary").first.click()
    fits_the_screen(page)
    keep(page, "logs-exchange")
