"""The settings every app service reads from the environment, and how a bad one is reported.

Each field is named by its environment variable first (``env("OIDC_ISSUER", "issuer")``)
and accepts its own name too, so a test can build ``Settings(issuer=...)``. An empty
variable counts as unset (the default applies).

What is refused, so that nonsense stops the service at start instead of failing each
request later:

- an issuer or back-channel address that is not an absolute http(s) URL
  (``OIDC_ISSUER=localhost:9000``);
- a blank audience, client id or secret (fields typed ``NonBlank`` / ``NonBlankSecret``).

``load_settings`` builds a service's settings and, on a refused value, ends the process with
one line naming each environment variable at fault and no stack trace::

    target-api: invalid settings: OIDC_ISSUER: Value error, must be an http(s) URL ...
"""

from __future__ import annotations

import sys
from typing import Annotated, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ISSUER = "http://localhost:9000/"
S = TypeVar("S", bound=BaseSettings)


def env(name: str, field: str) -> AliasChoices:
    """Read ``field`` from the environment variable ``name`` (or from its own name)."""
    return AliasChoices(name, field)


def is_http_url(value: str) -> bool:
    """An absolute http(s) URL: a scheme and a host."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def http_url(value: str, example: str) -> str:
    if not is_http_url(value):
        raise ValueError(f"must be an http(s) URL, e.g. {example}")
    return value


def redis_url(value: str) -> str:
    """Empty (the setting is off), or a redis:// or rediss:// URL naming a host."""
    value = value.strip()
    parts = urlsplit(value)
    if value and (parts.scheme not in ("redis", "rediss") or not parts.hostname):
        raise ValueError("must be empty or a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0")
    return value


def non_blank(value: str | SecretStr | None) -> str | SecretStr | None:
    """Refuse a value of only spaces (an empty variable already means "use the default")."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if text is not None and not text.strip():
        raise ValueError("must not be blank")
    return value


NonBlank = Annotated[str, AfterValidator(non_blank)]
NonBlankSecret = Annotated[SecretStr, AfterValidator(non_blank)]


class ServiceSettings(BaseSettings):
    """Where the identity provider is, and the clock skew accepted on its tokens."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)
    # The web app builds provider URLs by appending to the issuer; the APIs only compare it.
    issuer_ends_in_slash: ClassVar[bool] = False

    issuer: str = Field(DEFAULT_ISSUER, validation_alias=env("OIDC_ISSUER", "issuer"))
    # Where this service reaches the identity provider, when not at the issuer's address.
    idp_internal_url: str | None = Field(None, validation_alias=env("IDP_INTERNAL_URL", "idp_internal_url"))
    # Clock skew accepted on tokens, at most 60 s in every service.
    leeway: int = Field(30, ge=0, le=60, validation_alias=env("TOKEN_LEEWAY", "leeway"))
    # Host names answered beyond loopback, the compose name and the settings' URLs
    # (comma-separated; obo_common/allowed_hosts.py). `make up` lists its URLs' hosts here.
    allowed_hosts: str | None = Field(None, validation_alias=env("ALLOWED_HOSTS", "allowed_hosts"))

    @field_validator("issuer", "idp_internal_url")
    @classmethod
    def provider_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if cls.issuer_ends_in_slash and (not is_http_url(value) or not value.endswith("/")):
            raise ValueError(f"must be an http(s) URL ending in '/', e.g. {DEFAULT_ISSUER}")
        return http_url(value, DEFAULT_ISSUER)


class ApiSettings(ServiceSettings):
    """What both APIs add: which access tokens they take, and how long they keep the keys."""

    # rfc9068 (typ at+jwt, client_id, jti) or the provider's default profile (typ JWT, azp,
    # no jti); see obo_common/access_token_validator.py and docs/configuration.md.
    access_token_profile: Literal["rfc9068", "provider-default"] = Field(
        "rfc9068", validation_alias=env("ACCESS_TOKEN_PROFILE", "access_token_profile")
    )
    # The JWKS is fetched again when older than this: the longest a key the provider no
    # longer publishes is still trusted (docs/troubleshooting.md, T14).
    jwks_max_age: float = Field(300.0, gt=0, le=3600, validation_alias=env("JWKS_MAX_AGE", "jwks_max_age"))
    unknown_kid_interval: float = Field(
        30.0, ge=0, validation_alias=env("JWKS_UNKNOWN_KID_INTERVAL", "unknown_kid_interval")
    )


def problems(error: ValidationError, settings_class: type[BaseSettings]) -> str:
    """One ``VARIABLE: message`` per refused value, named by its environment variable."""
    variables = {
        name: str(field.validation_alias.choices[0])
        for name, field in settings_class.model_fields.items()
        if isinstance(field.validation_alias, AliasChoices)
    }
    described = []
    for refused in error.errors():
        where = [str(part) for part in refused["loc"]]
        if where:
            where[0] = variables.get(where[0], where[0])
        described.append(f"{'.'.join(where)}: {refused['msg']}")
    return "; ".join(described)


def load_settings(settings_class: type[S], service: str) -> S:
    """``settings_class()``, or the process ends with a message naming each bad variable."""
    try:
        return settings_class()
    except ValidationError as error:
        sys.exit(f"{service}: invalid settings: {problems(error, settings_class)}")
