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


# -- reset: the mock's own call, for the demo panel's "restore everything" ---------------


def kid_of(flows, token: str) -> str:
    return jwt.decode(token, flows.app.extensions["mock_idp"].keys.published()).header["kid"]


def test_reset_makes_the_first_key_current_while_it_is_still_published(flows):
    first_token = flows.login_tokens()["access_token"]
    first_kid = kid_of(flows, first_token)
    Management(flows).post("/keys/signing/rotate")
    later_token = flows.login_tokens()["access_token"]

    response = Management(flows).post("/keys/signing/reset")

    assert response.status_code == 200, response.json
    assert response.json == {"kid": first_kid}
    for token in (first_token, later_token):
        flows.claims(token)
        assert flows.exchange(token).status_code == 200
    assert kid_of(flows, flows.login_tokens()["access_token"]) == first_kid
    listed = Management(flows).get("/keys/signing").json
    assert [(k["kid"], k["current"], k["previous"], k["revoked"]) for k in listed] == [
        (first_kid, True, False, False),
        (kid_of(flows, later_token), False, True, False),
    ]
    assert listed[0]["current_until"] is None


def test_reset_never_brings_back_a_retired_key(flows):
    first_token = flows.login_tokens()["access_token"]
    first_kid = kid_of(flows, first_token)
    rotations = [Management(flows).post("/keys/signing/rotate").json["kid"] for _ in range(3)]
    retired = {first_kid, rotations[0]}
    keys = flows.app.extensions["mock_idp"].keys

    response = Management(flows).post("/keys/signing/reset")

    assert response.status_code == 200, response.json
    assert response.json == {"kid": rotations[1]}  # the oldest key still published, not the first
    assert {key["kid"] for key in flows.browser.get("/.well-known/jwks.json").json["keys"]} == set(rotations[1:])
    assert {key.kid for key in keys.published().keys} == set(rotations[1:])
    refused = flows.exchange(first_token)
    assert refused.status_code == 400, refused.json
    assert refused.json["error_description"] == "subject_token signature could not be verified"
    listed = {
        k["kid"]: (k["current"], k["previous"], k["revoked"]) for k in Management(flows).get("/keys/signing").json
    }
    assert {kid for kid, (_, _, revoked) in listed.items() if revoked} == retired
    assert listed[rotations[1]] == (True, False, False)
    assert listed[rotations[2]] == (False, True, False)


def test_a_management_token_held_across_rotations_and_a_reset_still_works(flows):
    api = Management(flows)
    api.post("/keys/signing/rotate")
    assert api.post("/keys/signing/reset").status_code == 200
    assert api.get("/keys/signing").status_code == 200


def test_a_rotation_after_a_reset_retires_every_previous_key(flows):
    first_kid = kid_of(flows, flows.login_tokens()["access_token"])
    Management(flows).post("/keys/signing/rotate")
    Management(flows).post("/keys/signing/reset")
    before = flows.login_tokens()["access_token"]  # signed with the first key

    new_kid = Management(flows).post("/keys/signing/rotate").json["kid"]

    listed = Management(flows).get("/keys/signing").json
    states = {k["kid"]: (k["current"], k["previous"], k["revoked"]) for k in listed}
    assert states[new_kid] == (True, False, False)
    assert states[first_kid] == (False, True, False)
    assert sum(revoked for _, _, revoked in states.values()) == 1
    assert [k["kid"] for k in flows.browser.get("/.well-known/jwks.json").json["keys"]] == [new_kid, first_kid]
    flows.claims(before)


def test_a_reset_without_rotations_changes_nothing(flows):
    token = flows.login_tokens()["access_token"]
    assert Management(flows).post("/keys/signing/reset").json == {"kid": kid_of(flows, token)}
    assert len(flows.browser.get("/.well-known/jwks.json").json["keys"]) == 1


def test_reset_needs_the_rotation_scope(flows):
    assert Management(flows, scope="read:signing_keys").post("/keys/signing/reset").status_code == 403
    assert flows.backend.post("/api/v2/keys/signing/reset").status_code == 401


def test_an_exchange_reads_the_signing_keys_once(flows):
    # The subject token's verification and the signing of the answer share one snapshot.
    subject = flows.login_tokens()["access_token"]
    connection = flows.app.extensions["mock_idp"].storage._connection()
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        assert flows.exchange(subject).status_code == 200
    finally:
        connection.set_trace_callback(None)
    assert len([sql for sql in statements if "FROM signing_keys" in sql]) == 1


def test_a_key_rotated_in_a_request_is_the_one_that_request_then_sees(flows):
    # Rotation and listing in one request context: the snapshot is dropped by the rotation.
    keys = flows.app.extensions["mock_idp"].keys
    with flows.app.test_request_context("/"):
        before = keys.current().kid
        new_kid = keys.rotate()
        assert keys.current().kid == new_kid != before
        assert [key.kid for key in keys.published().keys] == [new_kid, before]
