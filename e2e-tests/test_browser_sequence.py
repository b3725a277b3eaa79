"""The flow inspector's sequence diagram and its export, in a real browser: after a call the
arrows of steps 1 to 4 with their statuses, each linked to its hop; after a Break-it switch
the red arrow with its case; the HAR parses, has the hops, and holds no secret or whole
token unless asked."""

from __future__ import annotations

import json
import re

import browser_support
from demo_tenant import ALICE, PASSWORD

sync_api = browser_support.require_browser()
pytestmark = browser_support.needs_chromium

EMAIL, _ = ALICE
SECRETS = ("web-app-secret", "source-api-secret")


def call_and_open_the_inspector(page, stack) -> None:
    page.goto(stack["web-app"].url + "/call")
    page.get_by_role("button", name=re.compile("Get my contacts")).click()
    page.goto(stack["web-app"].url + "/inspector")
    sync_api.expect(page.get_by_role("heading", name="The run as a picture")).to_be_visible()


def labels(page) -> list[tuple[str, str, str]]:
    """(step, class, label) of each arrow, top to bottom."""
    arrows = page.locator("svg.sequence a.arrow")
    return [
        (arrow.get_attribute("data-step"), arrow.get_attribute("class"), arrow.locator("text.label").text_content())
        for arrow in arrows.all()
    ]


def test_after_a_call_the_diagram_shows_steps_1_to_4_and_the_export_holds_no_token(stack, page):
    expect = sync_api.expect
    browser_support.log_in(page, stack, EMAIL, PASSWORD)
    call_and_open_the_inspector(page, stack)

    assert labels(page) == [
        ("1", "arrow call", "GET /authorize 302"),
        ("1", "arrow call", "POST /oauth/token 200"),
        ("2", "arrow call", "GET /api/contacts 200"),
        ("3", "arrow call", "POST /oauth/token 200"),
        ("4", "arrow call", "GET /api/contacts 200"),
    ]
    for lane in ("browser", "web app", "Source API", "identity provider", "Target API"):
        expect(page.locator("svg.sequence .lane text", has_text=lane)).to_have_count(1)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    browser_support.keep(page, "inspector-sequence")

    # An arrow is a link to its hop's details.
    page.locator('svg.sequence a.arrow[data-step="3"]').click()
    expect(page).to_have_url(re.compile(r"#hop-4$"))
    expect(page.locator("#hop-4")).to_be_in_viewport()
    expect(page.locator("#hop-4")).to_contain_text("Token exchange")

    # The /authorize request is a hop of step 1, with its PKCE challenge, audience and scopes.
    authorize = page.locator("#hop-1")
    expect(authorize).to_contain_text("Authorization request")
    for name, value in (("code_challenge_method", "S256"), ("audience", "https://source-api.example.com")):
        expect(authorize.locator("tr", has=page.locator(f"th:text-is('{name}')"))).to_contain_text(value)
    expect(authorize.locator("tr", has=page.locator("th:text-is('scope')"))).to_contain_text("read:contacts")
    expect(authorize.locator("tr", has=page.locator("th:text-is('code_challenge')"))).to_be_visible()

    tokens = [t for t in page.locator("code.whole").all_text_contents() if len(t) > 40]
    assert tokens, "the page shows the user's tokens behind its toggles"
    web = stack["web-app"].url
    answer = page.request.get(web + "/inspector/export.har")
    assert answer.ok
    text = answer.text()
    har = json.loads(text)["log"]
    assert [(e["_step"], e["response"]["status"]) for e in har["entries"]] == [
        ("1", 302),
        ("1", 200),
        ("2", 200),
        ("3", 200),
        ("4", 200),
    ]
    for secret in SECRETS:
        assert secret not in text
    for token in tokens:
        assert token.removeprefix("Bearer ") not in text
    whole = page.request.get(web + "/inspector/export.har?tokens=whole").text()
    assert any(token.removeprefix("Bearer ") in whole for token in tokens)
    for secret in SECRETS:
        assert secret not in whole
    document = page.request.get(web + "/inspector/export.json").json()
    assert [a["label"] for a in document["sequence"]][3] == "POST /oauth/token 200"


def test_after_a_break_it_switch_the_failed_arrow_is_red_with_its_case(stack, page, tenant_as_found):
    expect = sync_api.expect
    browser_support.log_in(page, stack, EMAIL, PASSWORD)
    page.goto(stack["web-app"].url + "/panel")
    page.locator("#switch-exchange").get_by_role("button", name="Turn it off").click()
    expect(page.locator("#switch-exchange .tag")).to_have_text("off")
    page.get_by_role("button", name=re.compile("Call the Source API now")).click()
    expect(page.locator("#call-outcome")).to_contain_text("HTTP 502")
    page.goto(stack["web-app"].url + "/inspector")

    failed = page.locator("svg.sequence a.arrow.failed")
    exchange = page.locator('svg.sequence a.arrow.failed[data-step="3"]')
    expect(exchange).to_have_attribute("data-case", "T16")
    expect(exchange.locator("text.label")).to_have_text(re.compile(r"^POST /oauth/token 4\d\d \(T16\)$"))
    expect(exchange.locator("line")).to_have_attribute("stroke", "#c62828")
    expect(failed.first).to_have_attribute("data-step", "2")  # the Source API's 502 that carried it
    browser_support.keep(page, "inspector-sequence-failed")

    page.goto(stack["web-app"].url + "/panel")
    page.get_by_role("button", name="Restore everything").click()
    expect(page.get_by_role("status")).to_contain_text("Everything is restored")
