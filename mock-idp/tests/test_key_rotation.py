"""Signing key rotation: the JWKS keeps the previous key, so earlier tokens keep verifying."""

from joserfc import jwt

from .flows import Management


def test_rotation_publishes_new_and_previous_keys(flows):
    api = Management(flows)
    before = flows.login_tokens()["access_token"]
    old_kid = jwt.decode(before, flows.app.extensions["mock_idp"].keys.published()).header["kid"]

    response = api.post("/keys/signing/rotate")
    assert response.status_code == 201
    new_kid = response.json["kid"]
    assert new_kid != old_kid

    kids = [k["kid"] for k in flows.browser.get("/.well-known/jwks.json").json["keys"]]
    assert kids == [new_kid, old_kid]
    flows.claims(before)  # signed before the rotation, still verifies against the JWKS

    after = flows.login_tokens()["access_token"]
    assert jwt.decode(after, flows.app.extensions["mock_idp"].keys.published()).header["kid"] == new_kid
    # Subject tokens signed with the previous key are still accepted by the exchange.
    assert flows.exchange(before).status_code == 200

    listed = api.get("/keys/signing").json
    assert [(k["kid"], k["current"], k["previous"]) for k in listed] == [
        (new_kid, True, False),
        (old_kid, False, True),
    ]


def test_a_second_rotation_retires_the_oldest_key(flows):
    api = Management(flows)
    first = flows.login_tokens()["access_token"]
    api.post("/keys/signing/rotate")
    api.post("/keys/signing/rotate")

    assert len(flows.browser.get("/.well-known/jwks.json").json["keys"]) == 2
    response = flows.exchange(first)
    assert response.status_code == 400
    assert response.json["error_description"] == "subject_token signature could not be verified"
    # The management token was signed with the retired key too: a fresh one is needed.
    assert api.get("/keys/signing").status_code == 401
    assert sum(k["revoked"] for k in Management(flows).get("/keys/signing").json) == 1


def test_rotation_needs_its_scope(flows):
    api = Management(flows, scope="read:signing_keys")
    assert api.post("/keys/signing/rotate").status_code == 403
