"""What the tenant file (mock-idp/tenant.yaml) says that the tests rely on: its users,
clients and APIs, and the protocol names the flow uses."""

from __future__ import annotations

SOURCE_API = "https://source-api.example.com"
TARGET_API = "https://target-api.example.com"
LOGIN_SCOPE = "openid profile email offline_access read:profile read:contacts"
PASSWORD = "Passw0rd!"
ALICE = ("alice@example.com", "auth0|65f1a2b3c4d5e6f708091a01")
BOB = ("bob@example.com", "auth0|65f1a2b3c4d5e6f708091a02")
WEB_APP = {"client_id": "web-app", "client_secret": "web-app-secret"}
SOURCE_CLIENT = {"client_id": "source-api", "client_secret": "source-api-secret"}
MANAGEMENT_CLIENT = {"client_id": "management", "client_secret": "management-secret"}
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
TIMEOUT = 10  # seconds, for every request a test makes
