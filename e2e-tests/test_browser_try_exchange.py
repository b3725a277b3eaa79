"""The inspector's "try it" in a real browser: an attendee changes one parameter of the
Source API's token exchange and sees the provider's answer, its case and its log entry."""

from __future__ import annotations

import re

import browser_support
from demo_tenant import ALICE, PASSWORD, TARGET_API

sync_api = browser_support.require_browser()
pytestmark = browser_support.needs_chromium


def open_try_it(page, stack) -> None:
    browser_support.log_in(page, stack, ALICE[0], PASSWORD)
    page.get_by_role("link", name="Flow inspector").click()
    page.get_by_role("link", name="Try the exchange").click()
    sync_api.expect(page.get_by_role("heading", name="Try the exchange")).to_be_visible()
    # It starts with what the Source API sends; its secret is filled in there, not here.
    sync_api.expect(page.locator("#audience")).to_have_value(TARGET_API)
    assert "source-api-secret" not in page.content()


def test_a_misspelt_audience_gives_t20_and_its_tenant_log_entry(stack, page):
    expect = sync_api.expect
    open_try_it(page, stack)

    page.fill("#audience", TARGET_API + "/")
    page.get_by_role("button", name="Send the exchange").click()

    answer = page.locator("#tried")
    expect(answer).to_contain_text("HTTP 403")
    expect(answer).to_contain_text(f"Service not enabled within domain: {TARGET_API}/")
    expect(answer.get_by_role("link", name=re.compile("^T20: The audience names no API"))).to_have_attribute(
        "href", "/troubleshooting#t20"
    )
    entry = answer.locator("table.panel-log tr", has_text="failed_on_behalf_of_token_exchange")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("source-api")
    expect(answer.locator("table.sent")).to_contain_text("********")
    assert "source-api-secret" not in page.content()
    browser_support.keep(page, "try-exchange-t20")


def test_a_narrower_scope_gives_a_token_with_that_scope_decoded(stack, page):
    expect = sync_api.expect
    open_try_it(page, stack)

    page.fill("#scope", "read:contacts")
    page.get_by_role("button", name="Send the exchange").click()

    answer = page.locator("#tried")
    expect(answer).to_contain_text("HTTP 200")
    claims = answer.locator("table.claims")
    scope = claims.locator("tr", has=page.locator("th code", has_text=re.compile("^scope$")))
    expect(scope.locator("td")).to_have_text("read:contacts")  # not the Source API's offline_access too
    audience = claims.locator("tr", has=page.locator("th code", has_text=re.compile("^aud$")))
    expect(audience.locator("td")).to_have_text(TARGET_API)
    expect(answer.locator("table.panel-log")).to_contain_text("success_on_behalf_of_token_exchange")
    expect(answer).not_to_contain_text("Troubleshooting:")


def test_a_form_without_its_csrf_token_is_refused(stack, page):
    open_try_it(page, stack)
    page.fill("#audience", TARGET_API + "/")
    page.locator("form.try-form input[name=csrf_token]").first.evaluate("input => input.remove()")

    page.get_by_role("button", name="Send the exchange").click()

    sync_api.expect(page.get_by_text("The form was refused")).to_be_visible()
    sync_api.expect(page.locator("#tried")).to_have_count(0)


def test_outside_the_demo_configuration_the_page_is_404(stack, page):
    with stack.another("web-app", DEMO_TOOLS="off") as web_app:
        assert page.goto(web_app.url + "/inspector/try").status == 404
