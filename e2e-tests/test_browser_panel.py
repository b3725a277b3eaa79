"""The "break it" panel in a real browser: switch token exchange off, call, meet T16 with its
tenant log entry and link; restore everything, and the call shows the contacts again."""

from __future__ import annotations

import re

from browser_support import keep, log_in, needs_chromium, require_browser
from demo_tenant import ALICE, PASSWORD

sync_api = require_browser()
pytestmark = needs_chromium

EMAIL, _ = ALICE


def test_switch_exchange_off_meet_T16_and_restore(stack, page, tenant_as_found):
    expect = sync_api.expect
    log_in(page, stack, EMAIL, PASSWORD)
    page.get_by_role("link", name="Break it").click()
    expect(page.get_by_role("heading", name="Break it")).to_be_visible()
    expect(page.get_by_text("Demo only.")).to_be_visible()

    exchange = page.locator("#switch-exchange")
    exchange.get_by_role("button", name="Turn it off").click()
    expect(page.get_by_role("status")).to_contain_text("the next call meets the change")
    expect(page.locator("#switch-exchange .tag")).to_have_text("off")

    page.get_by_role("button", name=re.compile("Call the Source API now")).click()
    outcome = page.locator("#call-outcome")
    expect(outcome).to_contain_text("HTTP 502")
    expect(outcome).to_contain_text("unauthorized_client")
    expect(outcome.locator(".panel-log")).to_contain_text("failed_on_behalf_of_token_exchange")
    link = outcome.get_by_role("link", name=re.compile("^T16"))
    expect(link).to_have_attribute("href", "/troubleshooting#t16")
    keep(page, "panel")

    page.get_by_role("button", name="Restore everything").click()
    expect(page.get_by_role("status")).to_contain_text("Everything is restored")
    page.get_by_role("button", name=re.compile("Call the Source API now")).click()
    expect(page.locator("#call-outcome")).to_contain_text("HTTP 200")
    expect(page.locator("#call-outcome")).to_contain_text("Carol Chen")
    keep(page, "panel-restored")

    page.goto(stack["web-app"].url + "/troubleshooting#t16")
    expect(page.locator("#t16")).to_be_attached()


def test_switch_the_exchange_policy_to_bounded_and_back(stack, page, tenant_as_found):
    expect = sync_api.expect
    log_in(page, stack, EMAIL, PASSWORD)
    page.goto(stack["web-app"].url + "/panel")
    policy = page.locator("#switch-exchange-policy")
    expect(policy.locator(".tag")).to_have_text("legacy")
    expect(policy.get_by_role("link", name="T38")).to_have_attribute("href", "/troubleshooting#t38")

    policy.get_by_role("button", name="bounded").click()
    expect(page.get_by_role("status")).to_contain_text("The tenant's token exchange policy: changed (bounded)")
    expect(page.locator("#switch-exchange-policy .tag")).to_have_text("bounded")
    # The web app's own login granted offline_access: its exchange is within the login.
    page.get_by_role("button", name=re.compile("Call the Source API now")).click()
    expect(page.locator("#call-outcome")).to_contain_text("HTTP 200")

    page.locator("#switch-exchange-policy").get_by_role("button", name="legacy").click()
    expect(page.get_by_role("status")).to_contain_text("The tenant's token exchange policy: put back")
    expect(page.locator("#switch-exchange-policy .tag")).to_have_text("legacy")
