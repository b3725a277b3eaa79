"""The flow inspector in a real browser: log in as Alice, get her contacts, and see every
hop of steps 1 to 4 (step 5 after a refresh), her tokens decoded and the exchanged token
compared with hers, claim by claim."""

from __future__ import annotations

import re

import browser_support

sync_api = browser_support.require_browser()
pytestmark = browser_support.needs_chromium

EMAIL, PASSWORD = "alice@example.com", "Passw0rd!"
RULE_CLAIM = "https://obo.example.com/exchanged_by"  # mock-idp/rules/add_on_behalf_of_claims.py


def test_the_inspector_shows_each_step_token_and_claim(stack, page):
    expect = sync_api.expect
    browser_support.log_in(page, stack, EMAIL, PASSWORD)
    page.get_by_role("link", name="Call the Source API").first.click()
    page.get_by_role("button", name=re.compile("Get my contacts")).click()
    expect(page.get_by_text("carol@example.com")).to_be_visible()

    page.get_by_role("link", name="See how it was obtained, hop by hop").click()

    expect(page.get_by_role("heading", name="Flow inspector")).to_be_visible()
    for step, title in (
        ("1", "Authorization request"),
        ("1", "Code redemption"),
        ("2", "Source API call"),
        ("3", "Token exchange"),
        ("4", "Target API call"),
    ):
        expect(page.locator(f"#step-{step} .hop", has_text=title)).to_have_count(1)
    expect(page.locator("#step-5")).to_contain_text("Not recorded yet")

    # The tokens, decoded on the page (and said to be verified by the APIs, not here).
    expect(page.locator("#tokens + .hint")).to_contain_text("Decoded here, verified by the APIs")
    expect(page.get_by_role("heading", name="Your ID token").first).to_be_visible()
    target = page.locator(".token-card", has_text="The Target API token (exchanged by the Source API)").first
    expect(target).to_contain_text("https://target-api.example.com")
    expect(target.locator(".countdown").first).to_contain_text(re.compile(r"expires in"))

    # The diff: the audience changes, and the rule's claim appears in the exchanged token.
    aud = page.locator("table.diff tr", has=page.locator("th code", has_text=re.compile("^aud$")))
    expect(aud).to_have_class(re.compile("changed"))
    expect(aud.locator("td").nth(0)).to_contain_text("https://source-api.example.com")
    expect(aud.locator("td").nth(1)).to_have_text("https://target-api.example.com")
    rule = page.locator("table.diff tr", has=page.locator("th code", has_text=RULE_CLAIM))
    expect(rule).to_have_class(re.compile("rule"))
    expect(rule.locator("td").nth(0)).to_have_text("(absent)")
    expect(rule.locator("td").nth(1)).to_have_text("source-api")

    # A curl command per hop, the secret as a shell variable, and a copy button.
    redemption = page.locator("#step-1 .hop pre[id^=curl-]").first
    expect(redemption).to_contain_text("curl -sS")
    expect(redemption).to_contain_text('client_secret="$WEB_APP_CLIENT_SECRET"')
    expect(page.locator("#step-3 .hop pre[id^=curl-]").first).to_contain_text("$SOURCE_API_CLIENT_SECRET")
    assert "web-app-secret" not in page.content()
    assert "source-api-secret" not in page.content()

    # Nothing wider than the window: long tokens wrap or scroll inside their boxes.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    browser_support.keep(page, "inspector")

    # Step 5: a refresh from the home page shows up too.
    page.get_by_role("link", name="Home").first.click()
    page.get_by_role("button", name="Refresh tokens now").first.click()
    expect(page.get_by_role("heading", name="Tokens refreshed")).to_be_visible()
    page.get_by_role("link", name="Flow inspector").click()
    expect(page.locator("#step-5 .hop").first).to_contain_text("Web app refreshes its tokens")
    expect(page.locator("#step-5 .hop pre[id^=curl-]").first).to_contain_text("grant_type=refresh_token")
