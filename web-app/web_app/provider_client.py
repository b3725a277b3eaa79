"""Step 1 (log in) and step 5 (refresh) as this app does them, with Authlib's Flask client.

The provider's metadata comes from ``obo_common.IdentityProviderEndpoints``: the browser is
sent to the issuer's authorization endpoint, while the token endpoint and the JWKS are
reached at the back-channel address. Every way these calls fail becomes a ``Failure``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import Flask, session
from joserfc.errors import JoseError
from typing_extensions import override

from obo_common import IdentityProviderEndpoints, IdentityProviderUnavailable

from .failures import Failure
from .outgoing_http import IdentityProviderSession, traced
from .settings import Settings
from .troubleshooting_cases import CODE_EXCHANGE, ID_TOKEN, IDP_OUTAGE, REFRESH

PROVIDER = "the identity provider"
SECRETS = {"client_secret": "WEB_APP_CLIENT_SECRET"}  # for the flow inspector's curl commands
log = logging.getLogger(__name__)


class _ProviderApp(FlaskOAuth2App):
    client_cls = IdentityProviderSession

    def __init__(self, framework, name=None, endpoints: IdentityProviderEndpoints | None = None, **kwargs):
        super().__init__(framework, name, **kwargs)
        self.endpoints = endpoints

    @override
    def load_server_metadata(self):
        # Discovery is fetched (and retried after a failure) by IdentityProviderEndpoints;
        # Authlib keeps what it learns itself (the JWKS) in server_metadata.
        return {**self.endpoints.metadata(), **self.server_metadata}


class ProviderClient:
    """This app as a client of the identity provider: login, the callback, refresh, logout."""

    def __init__(self, app: Flask, settings: Settings, http: requests.Session):
        self.settings = settings
        self.http = http
        endpoints = IdentityProviderEndpoints(
            settings.issuer, settings.idp_internal_url, http, timeout=settings.idp_timeouts
        )
        self.endpoints = endpoints
        self.client = OAuth(app).register(
            "identity_provider",
            client_cls=_ProviderApp,
            endpoints=endpoints,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            client_kwargs={
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_post",
                "default_timeout": settings.idp_timeouts,
            },
        )

    def login_redirect(self, **extra: str):
        """Send the browser to /authorize (code flow, PKCE S256, state, nonce, audience), with
        ``extra`` parameters (a step-up's ``acr_values`` and ``max_age``)."""
        with _reporting(where="login", step="1"):
            return self.client.authorize_redirect(
                self.settings.callback_url,
                scope=self.settings.scope,
                audience=self.settings.source_api_audience,
                **extra,
            )

    def started_here(self, state: str) -> bool:
        """True when ``state`` is that of a login started in this session."""
        return self.client.framework.get_state_data(session, state) is not None

    def forget_login(self, state: str) -> None:
        self.client.framework.clear_state_data(session, state)

    def finish_login(self) -> tuple[dict, dict]:
        """Redeem the code of /callback; returns the tokens and the validated ID token's claims."""
        with (
            _reporting(where=CODE_EXCHANGE, step="1"),
            traced("1", "Code redemption", "identity provider", secrets=SECRETS, method="POST"),
        ):
            token = self.client.authorize_access_token(
                claims_options=self._id_token_rules(), leeway=self.settings.leeway
            )
        if "id_token" not in token:
            raise Failure(
                502,
                "The identity provider returned no ID token",
                step="1",
                reported_by=PROVIDER,
                detail="Without it the app cannot know who logged in. Is 'openid' in WEB_APP_SCOPE?",
            )
        claims = dict(token.pop("userinfo"))
        return dict(token), claims

    def refresh(self, refresh_token: str, subject: str | None) -> dict:
        """Step 5: a new access token (and, with rotation, a new refresh token)."""
        with (
            _reporting(where=REFRESH, step="5"),
            traced("5", "Web app refreshes its tokens", "identity provider", secrets=SECRETS, method="POST"),
        ):
            # scope=None: ask for the scope granted at login, never more (T36).
            token = self.client.fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token, scope=None)
            if "id_token" in token:
                claims = self.client.parse_id_token(
                    token, nonce=None, claims_options=self._id_token_rules(), leeway=self.settings.leeway
                )
                if claims["sub"] != subject:
                    raise Failure(502, "The refreshed ID token names another user", where=ID_TOKEN, step="5")
        return dict(token)

    def revoke(self, refresh_token: str) -> None:
        """Best effort at logout: revoke the refresh token (and the login's other tokens)."""
        try:
            endpoint = self.client.load_server_metadata()["revocation_endpoint"]
            response = self.http.post(
                endpoint,
                data={
                    "token": refresh_token,
                    "token_type_hint": "refresh_token",
                    "client_id": self.settings.client_id,
                    "client_secret": self.settings.client_secret.get_secret_value(),
                },
                timeout=self.settings.idp_timeouts,
            )
            response.raise_for_status()
        except (requests.RequestException, IdentityProviderUnavailable, KeyError) as error:
            log.warning("refresh token not revoked at logout: %s", type(error).__name__)

    def logout_url(self, id_token: str | None) -> str:
        """Where the browser goes to end the provider's session too (RP-Initiated Logout).

        Discovery's ``end_session_endpoint`` with ``id_token_hint`` (the login's ID token),
        ``client_id`` and ``post_logout_redirect_uri``, as OpenID Connect RP-Initiated
        Logout 1.0 recommends: a valid hint is what lets the provider end its session
        without asking the user, and proves the request comes from the application the user
        logged in to (docs/security.md, Logout). Without an endpoint, the provider's own
        logout URL when the issuer is one of its tenants (``Settings.legacy_logout_url``),
        which takes ``returnTo`` and no hint; else only this app's session ends, and the
        browser comes straight back.
        """
        settings = self.settings
        try:
            endpoint = self.client.load_server_metadata().get("end_session_endpoint")
        except IdentityProviderUnavailable as error:
            log.warning("logout: discovery failed, the provider's session is left as it is: %s", error)
            endpoint = None
        if endpoint:
            query = {"client_id": settings.client_id, "post_logout_redirect_uri": settings.logout_return_url}
            if id_token:
                query = {"id_token_hint": id_token, **query}
            return _with_query(endpoint, query)
        if legacy := settings.legacy_logout_url:
            return _with_query(legacy, {"client_id": settings.client_id, "returnTo": settings.logout_return_url})
        log.warning("logout: the provider names no end_session_endpoint; its session is left as it is")
        return settings.logout_return_url

    def _id_token_rules(self) -> dict:
        # Authlib checks the signature against the JWKS and the nonce; these are the rest.
        return {
            "iss": {"essential": True, "value": self.settings.issuer},
            "aud": {"essential": True, "value": self.settings.client_id},
            "sub": {"essential": True},
        }


def _with_query(url: str, query: dict) -> str:
    # An endpoint may carry a query of its own (OpenID Connect Discovery): add to it.
    return url + ("&" if "?" in url else "?") + urlencode(query)


@contextmanager
def _reporting(where: str, step: str) -> Iterator[None]:
    """Turn what the calls to the identity provider raise into pages."""
    try:
        yield
    except MismatchingStateError:
        raise Failure(400, "This login answer does not belong to a login started here", step=step) from None
    except OAuthError as error:
        raise _refused(where, step, error.error, error.description) from None
    except JoseError as error:
        raise Failure(
            502,
            "The ID token was rejected",
            where=ID_TOKEN,
            step=step,
            reported_by="this app",
            error=error.error,
            description=error.description,
        ) from None
    except IdentityProviderUnavailable as error:
        raise _unreachable(step, error.timed_out, detail=str(error)) from None
    except requests.Timeout:
        raise _unreachable(step, timed_out=True) from None
    except requests.ConnectionError:
        raise _unreachable(step, timed_out=False) from None
    except (requests.HTTPError, ValueError) as error:
        raise Failure(
            502,
            "The identity provider answered with an error",
            where=IDP_OUTAGE,
            step=step,
            detail=str(error),
        ) from None


def _unreachable(step: str, timed_out: bool, detail: str | None = None) -> Failure:
    if timed_out:
        return Failure(504, "The identity provider did not answer in time", where=IDP_OUTAGE, step=step, detail=detail)
    return Failure(503, "The identity provider cannot be reached", where=IDP_OUTAGE, step=step, detail=detail)


def _refused(where: str, step: str, error: str, description: str | None) -> Failure:
    title = {
        CODE_EXCHANGE: "The identity provider refused to redeem the authorization code",
        REFRESH: "The identity provider refused to refresh the tokens",
    }.get(where, "The identity provider refused the request")
    status = {"invalid_grant": 400, "too_many_requests": 429}.get(error, 502)
    return Failure(status, title, where=where, step=step, error=error, description=description, reported_by=PROVIDER)
