"""The tenant model: clients, APIs (resource servers), pairings, client grants and users.

Field names follow the imitated provider's Management API objects. A tenant document
(from the file, ``tenant_file``, or as changed through the Management API) is validated
as a whole by ``parse_tenant``: a bad value is refused with a message naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .secret_hashing import is_password_hash, is_secret_hash, looks_hashed
from .tenant_references import CROSS_REFERENCE_CHECKS

OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
MANAGEMENT_API_PATH = "api/v2/"
MANAGEMENT_SCOPES = (
    "read:clients",
    "update:clients",
    "read:resource_servers",
    "update:resource_servers",
    "read:logs",
    "delete:logs",
    "read:signing_keys",
    "create:signing_keys",
    "read:tenant_settings",
    "update:tenant_settings",
    "read:rules",
    "update:rules",
    "read:grants",
    "delete:grants",
    "update:users",
)


# The longest an API's access tokens may live (the provider's cap, 30 days).
MAX_API_TOKEN_LIFETIME = 2592000


def _registered_grant_type(value: str) -> str:
    # Imported here: the grants read this module's models.
    from .grants.registry import GRANT_TYPES

    if value not in GRANT_TYPES:
        raise ValueError(f"Input should be one of {', '.join(repr(g) for g in GRANT_TYPES)}")
    return value


#: A grant type a client may list: one of the registered grants' (grants/registry.py).
GrantType = Annotated[str, AfterValidator(_registered_grant_type)]


class TenantError(ValueError):
    """The tenant file cannot be used; the message names the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RefreshTokenPolicy(_Model):
    rotation_type: Literal["rotating", "non-rotating"] = "rotating"
    token_lifetime: int = Field(default=2592000, gt=0)


class Client(_Model):
    name: str
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=8)
    app_type: Literal["regular_web", "non_interactive", "resource_server"]
    is_first_party: bool = True
    token_endpoint_auth_method: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    callbacks: tuple[str, ...] = ()
    allowed_logout_urls: tuple[str, ...] = ()
    grant_types: tuple[GrantType, ...] = ()
    refresh_token: RefreshTokenPolicy = RefreshTokenPolicy()
    # A "Custom API" client (app_type resource_server) names the API it acts for: under the
    # ``current`` exchange profile only such a client may exchange, for that API's tokens.
    resource_server_identifier: str | None = None

    @field_validator("client_secret")
    @classmethod
    def secret_hash_well_formed(cls, value: str) -> str:
        # Clear here only as read from a tenant file; the tenant store keeps it hashed.
        if looks_hashed(value) and not is_secret_hash(value):
            raise ValueError("is not a well-formed $sha256$<salt>$<digest> hash")
        return value

    @field_validator("callbacks", "allowed_logout_urls")
    @classmethod
    def absolute_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not re.match(r"^https?://[^\s/]+", url) or "*" in url or "#" in url:
                raise ValueError(f"{url!r} is not an absolute http(s) URL without wildcard or fragment")
        return urls


class Scope(_Model):
    value: str = Field(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")
    description: str = ""


class TokenExchangeSettings(_Model):
    enabled: bool = False
    client_id: str | None = None


class UserFlowPolicy(_Model):
    # Which clients may get this API's tokens for a user at /authorize (and refresh them):
    # every client, none, or those with a client grant of subject_type "user" for it.
    # An On-Behalf-Of exchange is authorised by the API pairing instead.
    policy: Literal["allow_all", "deny_all", "require_client_grant"] = "allow_all"


class SubjectTypeAuthorization(_Model):
    user: UserFlowPolicy = UserFlowPolicy()


class StepUpPolicy(_Model):
    """The provider's step-up policy for an API (RFC 9470): an exchange for a token of this
    API asking one of ``scopes`` needs the subject token's login to be of one of
    ``acr_values`` and/or at most ``max_age`` seconds old (T45, T46)."""

    scopes: tuple[str, ...] = ()
    acr_values: tuple[str, ...] = ()
    max_age: int | None = Field(default=None, ge=0, le=10**8)


class ResourceServer(_Model):
    # A short id for Management API paths; made from the name when not given.
    id: str = Field(default="", pattern=r"^$|^[a-z0-9][a-z0-9-]*$")
    name: str
    identifier: str = Field(min_length=1)
    scopes: tuple[Scope, ...] = ()
    token_lifetime: int = Field(default=86400, gt=0, le=MAX_API_TOKEN_LIFETIME)
    allow_offline_access: bool = False
    skip_consent_for_verifiable_first_party_clients: bool = False
    token_exchange: TokenExchangeSettings = TokenExchangeSettings()
    subject_type_authorization: SubjectTypeAuthorization = SubjectTypeAuthorization()
    step_up: StepUpPolicy = StepUpPolicy()
    is_system: bool = False

    @model_validator(mode="before")
    @classmethod
    def id_from_name(cls, data):
        if isinstance(data, dict) and not data.get("id") and isinstance(data.get("name"), str):
            data = {**data, "id": re.sub(r"[^a-z0-9]+", "-", data["name"].lower()).strip("-")}
        return data

    @property
    def scope_values(self) -> tuple[str, ...]:
        return tuple(s.value for s in self.scopes)


class ApiPairing(_Model):
    source: str
    target: str
    scopes: tuple[str, ...] = ()


class ClientGrant(_Model):
    client_id: str
    audience: str
    scope: tuple[str, ...] = ()
    # "client": client_credentials; "user": what the client may ask for a user at /authorize
    # when the API's user-flow policy is require_client_grant.
    subject_type: Literal["client", "user"] = "client"


class User(_Model):
    user_id: str = Field(pattern=r"^[a-z0-9-]+\|[A-Za-z0-9_.-]+$")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    email_verified: bool = False
    password: str = Field(min_length=8)
    name: str = ""
    given_name: str | None = None
    family_name: str | None = None
    nickname: str | None = None
    claims: dict[str, str | int | bool | list[str]] = {}

    @field_validator("password")
    @classmethod
    def password_hash_well_formed(cls, value: str) -> str:
        if looks_hashed(value) and not is_password_hash(value):
            raise ValueError("is not a well-formed $scrypt$ln=..,r=..,p=..$<salt>$<hash> hash (ln <= 16, r <= 8)")
        return value

    def profile_claims(self, scopes: set[str]) -> dict:
        claims: dict = {}
        if "profile" in scopes:
            for field in ("name", "given_name", "family_name", "nickname"):
                if getattr(self, field):
                    claims[field] = getattr(self, field)
            claims.update(self.claims)
        if "email" in scopes:
            claims["email"] = self.email
            claims["email_verified"] = self.email_verified
        return claims


class RateLimit(_Model):
    limit: int = Field(gt=0)
    window: int = Field(default=60, gt=0, le=86400)


class RateLimits(_Model):
    # Exchanges per Source API client.
    token_exchange: RateLimit = RateLimit(limit=100)
    # Refreshes of one refresh token (and the tokens rotated from it) from one address.
    refresh_token: RateLimit = RateLimit(limit=20)


class Rule(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    script: str = Field(pattern=r"^[A-Za-z0-9_]+\.py$")
    enabled: bool = True
    order: int = 0


class Tenant(_Model):
    friendly_name: str = "Tenant"
    default_audience: str = ""
    rate_limits: RateLimits = RateLimits()
    # Seconds added to this server's clock when it writes iat and exp: a workshop can
    # make the provider's clock disagree with the APIs' (troubleshooting T12, T15).
    clock_skew: int = Field(default=0, ge=-86400 * 30, le=86400)
    # What an On-Behalf-Of exchange may issue (docs/security.md): ``legacy`` decides by the
    # pairing and the Target API, as the tutorial's provider does; ``bounded`` never issues
    # more scope, offline access or lifetime than the subject token carries (T38).
    token_exchange_policy: Literal["legacy", "bounded"] = "legacy"
    # Which of the provider's On-Behalf-Of setups the exchange follows (docs/mock-idp.md):
    # ``legacy``, the API's Token Exchange Settings, as the tutorial describes; ``current``,
    # a Custom API client, access token only, delegation with ``act``.
    token_exchange_profile: Literal["legacy", "current"] = "legacy"
    # ``current``: how many actors an issued token's ``act`` chain may name (the provider
    # allows five); 0 allows none, so an actor_token is refused.
    token_exchange_delegation_depth: int = Field(default=5, ge=0, le=5)
    # Python rule files, relative to the tenant file's folder.
    rules_folder: str = "rules"
    rules: tuple[Rule, ...] = ()
    clients: tuple[Client, ...]
    resource_servers: tuple[ResourceServer, ...]
    api_pairings: tuple[ApiPairing, ...] = ()
    client_grants: tuple[ClientGrant, ...] = ()
    users: tuple[User, ...] = ()

    @model_validator(mode="after")
    def references_resolve(self) -> Tenant:
        """Every cross-reference names something this tenant has; the first that does not
        is refused (pydantic reports it under ``tenant``)."""
        for check in CROSS_REFERENCE_CHECKS:
            check(self)
        return self

    def client(self, client_id: str | None) -> Client | None:
        return next((c for c in self.clients if c.client_id == client_id), None)

    def resource_server(self, identifier: str | None) -> ResourceServer | None:
        return next((r for r in self.resource_servers if r.identifier == identifier), None)

    def resource_server_by_id(self, id_or_identifier: str) -> ResourceServer | None:
        return next(
            (r for r in self.resource_servers if id_or_identifier in (r.id, r.identifier)),
            None,
        )

    def user(self, user_id: str | None) -> User | None:
        return next((u for u in self.users if u.user_id == user_id), None)

    def user_by_email(self, email: str) -> User | None:
        email = email.strip().lower()
        return next((u for u in self.users if u.email.lower() == email), None)

    def exchange_api_of(self, client_id: str) -> ResourceServer | None:
        """The API whose Token Exchange Settings name this client, if exchange is on."""
        return next(
            (r for r in self.resource_servers if r.token_exchange.enabled and r.token_exchange.client_id == client_id),
            None,
        )

    def custom_api_of(self, client_id: str) -> ResourceServer | None:
        """The API a Custom API client (app_type resource_server) is linked to, if any."""
        client = self.client(client_id)
        if client is None or client.app_type != "resource_server":
            return None
        return self.resource_server(client.resource_server_identifier)

    def pairing(self, source: str, target: str) -> ApiPairing | None:
        return next((p for p in self.api_pairings if p.source == source and p.target == target), None)

    def client_grant(self, client_id: str, audience: str, subject_type: str = "client") -> ClientGrant | None:
        return next(
            (
                g
                for g in self.client_grants
                if g.client_id == client_id and g.audience == audience and g.subject_type == subject_type
            ),
            None,
        )


def management_api_document(issuer: str) -> dict:
    """The built-in Management API as a resource server of every tenant (never stored)."""
    return {
        "name": "Management API",
        "identifier": issuer + MANAGEMENT_API_PATH,
        "scopes": [{"value": s} for s in MANAGEMENT_SCOPES],
        "token_lifetime": 86400,
        "is_system": True,
    }


def parse_tenant(document: dict, issuer: str) -> Tenant:
    """Validate a tenant document; the built-in Management API is added to it."""
    if not isinstance(document, dict):
        raise TenantError("the tenant file must hold a mapping at its top level")
    document = dict(document)
    apis = [a for a in document.get("resource_servers") or [] if not (isinstance(a, dict) and a.get("is_system"))]
    document["resource_servers"] = [*apis, management_api_document(issuer)]
    try:
        return Tenant.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "tenant"
            problems.append(f"{where}: {error['msg']}")
        raise TenantError("invalid tenant: " + "; ".join(problems)) from None
