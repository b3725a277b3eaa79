"""Which API a client may log a user in for, and that every API scope is consented to.

The Target API is reached only through the Source API's exchange: its user-flow policy
(``subject_type_authorization.user.policy``) is ``deny_all``, so the web app cannot get a
Target API token at /authorize, where the Target API's "skip consent for first-party
clients" would otherwise hand it ``write:contacts`` without asking the user.
"""

import json

from joserfc import jws

from .conftest import api_named
from .flows import ALICE_ID, SOURCE_API, TARGET_API, Flows, query_of

TARGET_REFUSED = f"Client web-app is not authorized to access {TARGET_API} for a user"


def set_user_policy(identifier, policy):
    def change(document):
        api_named(document, identifier)["subject_type_authorization"] = {"user": {"policy": policy}}

    return change


def test_the_web_app_cannot_log_a_user_in_for_the_target_api(flows):
    params, _ = flows.authorize_params(audience=TARGET_API, scope="openid read:contacts write:contacts")

    response = flows.browser.get("/authorize", query_string=params)

    assert response.status_code == 302, response.text
    returned = query_of(response.location)
    assert (returned["error"], returned["error_description"]) == ("access_denied", TARGET_REFUSED)
    assert returned["state"] == params["state"]
    log = flows.last_log()
    assert (log["type"], log["description"], log["audience"]) == ("f", TARGET_REFUSED, TARGET_API)


def test_the_refusal_holds_for_a_logged_in_user_too(flows):
    flows.authorization_code()
    params, _ = flows.authorize_params(audience=TARGET_API, scope="openid write:contacts", prompt="none")

    returned = query_of(flows.browser.get("/authorize", query_string=params).location)

    assert returned["error"] == "access_denied"
    assert "code" not in returned


def test_the_exchange_still_reaches_the_target_api(flows):
    tokens = flows.login_tokens()

    response = flows.exchange(tokens["access_token"])

    assert response.status_code == 200, response.json
    claims = json.loads(jws.extract_compact(response.json["access_token"].encode()).payload)
    assert (claims["aud"], claims["sub"]) == (TARGET_API, ALICE_ID)


def test_allow_all_lets_any_client_in_as_the_provider_does_by_default(make_app):
    flows = Flows(make_app(set_user_policy(TARGET_API, "allow_all")))

    code, verifier, _ = flows.authorization_code(audience=TARGET_API, scope="openid read:contacts")

    assert flows.redeem(code, verifier).status_code == 200


def test_require_client_grant_refuses_a_client_without_one(make_app):
    flows = Flows(make_app(set_user_policy(SOURCE_API, "require_client_grant")))
    params, _ = flows.authorize_params()

    returned = query_of(flows.browser.get("/authorize", query_string=params).location)

    assert returned["error"] == "access_denied"
    assert returned["error_description"] == f"Client web-app is not authorized to access {SOURCE_API} for a user"


def test_require_client_grant_keeps_the_api_scopes_to_the_grants(make_app):
    def change(document):
        set_user_policy(SOURCE_API, "require_client_grant")(document)
        document["client_grants"].append(
            {"client_id": "web-app", "audience": SOURCE_API, "subject_type": "user", "scope": ["read:profile"]}
        )

    flows = Flows(make_app(change))
    code, verifier, _ = flows.authorization_code(scope="openid read:profile read:contacts write:contacts")

    assert flows.redeem(code, verifier).json["scope"] == "openid read:profile"


def test_a_user_client_grant_does_not_authorise_client_credentials(make_app):
    def change(document):
        document["client_grants"].append(
            {"client_id": "source-api", "audience": SOURCE_API, "subject_type": "user", "scope": ["read:profile"]}
        )

    flows = Flows(make_app(change))
    form = {"grant_type": "client_credentials", "audience": SOURCE_API, "client_id": "source-api"}

    response = flows.backend.post("/oauth/token", data={**form, "client_secret": "source-api-secret"})

    assert response.status_code in (401, 403), response.json
    assert "access_token" not in response.json


def test_the_source_apis_write_scope_is_asked_for_even_after_an_earlier_consent(flows):
    flows.authorization_code()  # consented to the usual login's scopes
    params, verifier = flows.authorize_params(scope="openid read:contacts write:contacts")

    page = flows.browser.get("/authorize", query_string=params)

    assert page.status_code == 200, page.text
    assert "Authorize" in page.text
    assert "Add to your contacts" in page.text
    returned = query_of(flows.consent(page).location)
    assert flows.redeem(returned["code"], verifier).json["scope"] == "openid read:contacts write:contacts"
