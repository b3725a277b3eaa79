"""The identity provider's Management API, as the demo panel calls it.

A client_credentials token for ``settings.management_audience`` from the token endpoint
(found through discovery, at the back-channel address in compose), kept while it works:
on any 401 a new one is fetched and the call is made once more, since two key rotations
make a held token stale. Every call has a timeout, and every failure is a
``ManagementError`` whose message the panel shows as it is.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests

from obo_common import IdentityProviderEndpoints, IdentityProviderUnavailable

from .settings import Settings


class ManagementError(Exception):
    """The Management API could not do what the panel asked; the message says what and why."""


class ManagementClient:
    def __init__(self, settings: Settings, http: requests.Session | None = None):
        self.settings = settings
        # A session of its own: the panel's tenant changes are not part of the user's call,
        # so they carry no X-Request-Id of the page and stay out of its tenant log entries.
        self.http = http or requests.Session()
        self.timeout = settings.idp_timeouts
        self.endpoints = IdentityProviderEndpoints(
            settings.issuer, settings.idp_internal_url, self.http, timeout=self.timeout
        )
        # The Management API's identifier is its base URL; reached at the back channel.
        self.base_url = self.endpoints.back_channel(settings.management_audience).rstrip("/")
        self.base_path = urlsplit(self.base_url).path
        self._token: str | None = None
        self._lock = threading.Lock()

    def get(self, path: str, **params) -> Any:
        return self.call("GET", path, params=params)

    def patch(self, path: str, body: dict) -> Any:
        return self.call("PATCH", path, json=body)

    def post(self, path: str, body: dict | None = None) -> Any:
        return self.call("POST", path, json=body if body is not None else {})

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    def forget_token(self) -> None:
        """Fetch a new token for the next call (the restore starts this way)."""
        with self._lock:
            self._token = None

    def call(self, method: str, path: str, json=None, params=None) -> Any:
        """The JSON answer of a Management API call (None for an empty one)."""
        response = self._send(method, path, self._current_token(), json, params)
        if response.status_code == 401:
            # Stale (two key rotations) or revoked: one new token, one more try.
            self.forget_token()
            response = self._send(method, path, self._current_token(), json, params)
        if response.status_code >= 400:
            raise ManagementError(f"{method} {self.base_path}{path} was refused: {_api_error(response)}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ManagementError(f"{method} {self.base_path}{path} answered something that is not JSON") from None

    def _send(self, method: str, path: str, token: str, json, params) -> requests.Response:
        try:
            return self.http.request(
                method,
                self.base_url + path,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                json=json,
                params=params,
                timeout=self.timeout,
            )
        except requests.Timeout:
            asked = f"{method} {self.base_path}{path}"
            raise ManagementError(f"The Management API did not answer {asked} in time") from None
        except requests.RequestException:
            raise ManagementError(
                f"The Management API cannot be reached at {self.base_url} (is the identity provider running?)"
            ) from None

    def _current_token(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._fetch_token()
            return self._token

    def _fetch_token(self) -> str:
        settings = self.settings
        try:
            response = self.http.post(
                self.endpoints.endpoint("token_endpoint"),
                data={
                    "grant_type": "client_credentials",
                    "client_id": settings.management_client_id,
                    "client_secret": settings.management_client_secret.get_secret_value(),
                    "audience": settings.management_audience,
                },
                timeout=self.timeout,
            )
        except IdentityProviderUnavailable as error:
            raise ManagementError(
                f"The identity provider cannot be reached for a Management API token: {error}"
            ) from None
        except requests.Timeout:
            raise ManagementError(
                "The identity provider did not answer the Management API token request in time"
            ) from None
        except requests.RequestException:
            raise ManagementError("The identity provider cannot be reached for a Management API token") from None
        body = _json(response)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str):
            refusal = body.get("error") or f"HTTP {response.status_code}"
            description = body.get("error_description") or "no description"
            raise ManagementError(
                f"The identity provider refused a Management API token: {refusal} ({description}). Check "
                "WEB_APP_MANAGEMENT_CLIENT_ID and WEB_APP_MANAGEMENT_CLIENT_SECRET."
            )
        return token


def _api_error(response: requests.Response) -> str:
    """The Management API's own error format: statusCode, error, message, errorCode."""
    body = _json(response)
    code = body.get("errorCode") or body.get("error") or "error"
    message = body.get("message") or response.reason or ""
    return f"HTTP {response.status_code} {code}: {message}".rstrip(": ")


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
