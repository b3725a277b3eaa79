"""acr_values at /authorize (RFC 9470 step-up): a second factor for urn:mock:mfa, and acr,
amr and auth_time in every token, exchanged ones included."""

from __future__ import annotations

import re

from mock_idp import authn_context

from .flows import ALICE_ID, Management, csrf_token, query_of

MFA = authn_context.MFA


def demo_code(page) -> str:
    match = re.search(r'<code id="demo-code">(\d{6})</code>', page.text)
    assert match, page.text
    return match.group(1)


def second_factor(flows, page, code: str | None = None):
    return flows.browser.post(
        page.request.full_path,
        data={"action": "second_factor", "code": code or demo_code(page), "csrf_token": csrf_token(page.text)},
    )


def logged_in_with_password(flows):
    """Alice logs in (password only) and her tokens come back."""
    return flows.login_tokens()


def test_a_password_login_is_urn_mock_pwd_in_every_token(flows):
    tokens = logged_in_with_password(flows)
    access, id_claims = flows.claims(tokens["access_token"]), flows.claims(tokens["id_token"], typ="JWT")
    for claims in (access, id_claims):
        assert claims["acr"] == authn_context.PASSWORD
        assert claims["amr"] == ["pwd"]
        assert isinstance(claims["auth_time"], int)


def test_acr_values_mfa_asks_the_second_factor_and_the_tokens_say_so(flows, clock_at):
    logged_in_with_password(flows)
    clock_at(10)
    params, verifier = flows.authorize_params(acr_values=MFA)
    page = flows.browser.get("/authorize", query_string=params)
    assert page.status_code == 200
    assert "Verify it" in page.text

    answer = second_factor(flows, page)
    assert answer.status_code == 302
    back = flows.browser.get(answer.location)
    assert back.status_code == 302
    assert back.location.startswith(params["redirect_uri"])
    tokens = flows.redeem(query_of(back.location)["code"], verifier).json
    claims = flows.claims(tokens["access_token"])
    assert claims["acr"] == MFA
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["auth_time"] == flows.claims(tokens["id_token"], typ="JWT")["auth_time"]
    assert flows.last_log()["type"] in {"seacft", "gd_auth_succeed"}

    # The stronger login travels with the user: through the refresh and the exchange.
    refreshed = flows.claims(flows.refresh(tokens["refresh_token"]).json["access_token"])
    assert refreshed["acr"] == MFA
    assert refreshed["auth_time"] == claims["auth_time"]
    exchanged = flows.claims(flows.exchange(tokens["access_token"]).json["access_token"])
    assert exchanged["sub"] == ALICE_ID
    assert exchanged["acr"] == MFA
    assert exchanged["auth_time"] == claims["auth_time"]

    # Once stronger, the session meets acr_values without asking again.
    again, _ = flows.authorize_params(acr_values=MFA)
    assert flows.browser.get("/authorize", query_string=again).status_code == 302


def test_a_wrong_code_asks_again_and_changes_nothing(flows):
    logged_in_with_password(flows)
    params, _ = flows.authorize_params(acr_values=MFA)
    page = flows.browser.get("/authorize", query_string=params)
    wrong = "000000" if demo_code(page) != "000000" else "111111"
    answer = second_factor(flows, page, wrong)
    assert answer.status_code == 401
    assert "Wrong code" in answer.text
    assert flows.logs("gd_auth_failed")
    # The old code was for one try: it no longer works; the new one shown does.
    again = second_factor(flows, answer, demo_code(page))
    assert again.status_code == 401 or demo_code(page) == demo_code(answer)
    assert second_factor(flows, again).status_code == 302


def test_bad_code_input_is_a_clear_error(flows):
    logged_in_with_password(flows)
    params, _ = flows.authorize_params(acr_values=MFA)
    page = flows.browser.get("/authorize", query_string=params)
    for bad in ["", "12345", "abcdef", "1" * 500]:
        answer = (
            second_factor(flows, page, bad)
            if bad
            else flows.browser.post(
                page.request.full_path, data={"action": "second_factor", "csrf_token": csrf_token(page.text)}
            )
        )
        assert answer.status_code == 400, bad
        page = answer


def test_prompt_none_with_a_stronger_acr_asked_is_login_required(flows):
    logged_in_with_password(flows)
    params, _ = flows.authorize_params(acr_values=MFA, prompt="none")
    answer = flows.browser.get("/authorize", query_string=params)
    assert answer.status_code == 302
    assert query_of(answer.location)["error"] == "login_required"


def test_an_acr_the_tenant_does_not_offer_gets_its_strongest_login(flows):
    """acr is a voluntary claim: the login is the strongest the tenant has, once (the API
    decides whether that will do, T47)."""
    logged_in_with_password(flows)
    params, verifier = flows.authorize_params(acr_values="urn:mock:hardware-key")
    page = flows.browser.get("/authorize", query_string=params)
    assert page.status_code == 200
    assert "Verify it" in page.text
    back = flows.browser.get(second_factor(flows, page).location)
    assert back.status_code == 302
    tokens = flows.redeem(query_of(back.location)["code"], verifier).json
    assert flows.claims(tokens["access_token"])["acr"] == MFA


def test_discovery_names_the_acr_values(flows):
    metadata = flows.browser.get("/.well-known/openid-configuration").json
    assert metadata["acr_values_supported"] == [authn_context.PASSWORD, MFA]
    assert {"acr", "amr"} <= set(metadata["claims_supported"])


# -- the Target API's step-up policy at the exchange (T45, T46) ------------------------------


def test_the_exchange_refuses_a_login_weaker_than_the_target_apis_policy(flows, clock_at):
    # Frozen from the start: the strong login below happens at offset 0, however long the
    # logins before it take, so offset 601 is 601 s after it (not 601 s after the start).
    clock_at(0)
    management = Management(flows)
    policy = {"scopes": ["read:contacts"], "acr_values": [MFA], "max_age": 600}
    assert management.patch("/resource-servers/target-api", {"step_up": policy}).status_code == 200

    weak = flows.exchange(logged_in_with_password(flows)["access_token"])
    assert weak.status_code == 400
    assert weak.json == {
        "error": "insufficient_user_authentication",
        "error_description": f"A stronger login is required (acr: {MFA})",
        "acr_values": MFA,
        "max_age": 600,
    }
    assert flows.last_log()["type"] == "failed_on_behalf_of_token_exchange"

    params, verifier = flows.authorize_params(acr_values=MFA)
    page = flows.browser.get("/authorize", query_string=params)
    back = flows.browser.get(second_factor(flows, page).location)
    strong = flows.redeem(query_of(back.location)["code"], verifier).json["access_token"]
    assert flows.exchange(strong).status_code == 200

    clock_at(601)  # the same strong login, now older than max_age
    stale = flows.exchange(strong)
    assert stale.status_code == 400
    assert stale.json["error_description"] == "A more recent login is required (within 600 seconds)"


def test_a_scope_the_policy_does_not_name_is_exchanged_as_before(flows):
    management = Management(flows)
    management.patch("/resource-servers/target-api", {"step_up": {"scopes": ["write:contacts"], "acr_values": [MFA]}})
    assert flows.exchange(logged_in_with_password(flows)["access_token"]).status_code == 200


def test_a_bad_policy_is_refused_and_changes_nothing(flows):
    management = Management(flows)
    before = management.get("/resource-servers/target-api").json
    for bad in ({"max_age": -1}, {"max_age": "soon"}, {"scopes": "read:contacts"}, {"unknown": 1}):
        answer = management.patch("/resource-servers/target-api", {"step_up": bad})
        assert answer.status_code == 400, bad
    assert management.get("/resource-servers/target-api").json == before
