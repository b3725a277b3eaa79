"""client_credentials for the management client."""

from .flows import ISSUER

MANAGEMENT = {"client_id": "management", "client_secret": "management-secret"}
AUDIENCE = ISSUER + "api/v2/"


def token(flows, **data):
    return flows.backend.post("/oauth/token", data={"grant_type": "client_credentials", **MANAGEMENT, **data})


def test_management_token(flows):
    response = token(flows, audience=AUDIENCE, scope="read:logs")
    assert response.status_code == 200
    claims = flows.claims(response.json["access_token"])
    assert claims["sub"] == "management@clients"
    assert claims["aud"] == AUDIENCE
    assert claims["scope"] == "read:logs"
    assert claims["gty"] == "client-credentials"
    assert "refresh_token" not in response.json
    assert flows.last_log()["type"] == "seccft"


def test_audience_is_required(flows):
    response = token(flows)
    assert response.status_code == 400
    assert response.json["error_description"] == "Missing required parameter: audience"
    assert flows.last_log()["type"] == "feccft"


def test_no_client_grant_for_the_audience(flows):
    response = token(flows, audience="https://target-api.example.com")
    assert response.status_code == 403
    assert response.json["error"] == "access_denied"


def test_scope_beyond_the_client_grant(flows):
    response = token(flows, audience=AUDIENCE, scope="read:logs delete:users")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"
