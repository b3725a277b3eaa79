"""web-app settings, read from the environment in one place.

The names are shared with docker-compose and ``.env.example``; each field also accepts its
own name, so tests can build ``Settings(issuer=...)``. What every app service shares
(issuer, back-channel address, leeway, how a bad value is reported) is in
``obo_common.settings_base``.
"""

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from obo_common.demo_tools import DemoToolsSetting, operator_secret
from obo_common.settings_base import NonBlank, NonBlankSecret, ServiceSettings, env, http_url, redis_url

SERVICE_DIR = Path(__file__).resolve().parent.parent
REPOSITORY = SERVICE_DIR.parent
# The two provider paths this app writes itself, because discovery does not list them
# (docs/configuration.md): the Management API (its audience is also its base URL), and the
# provider's own logout, for a tenant whose discovery names no end_session_endpoint.
MANAGEMENT_API_PATH = "api/v2/"
LEGACY_LOGOUT_PATH = "v2/logout"
# How a tenant of the imitated provider is known by its issuer (custom domains are not:
# set WEB_APP_LOGOUT_FALLBACK=v2-logout for one).
PROVIDER_TENANT_DOMAINS = (".auth0.com",)


class Settings(ServiceSettings):
    # Provider URLs (e.g. the Management API's audience) are the issuer with a path appended.
    issuer_ends_in_slash = True

    client_id: NonBlank = Field("web-app", min_length=1, validation_alias=env("WEB_APP_CLIENT_ID", "client_id"))
    client_secret: NonBlankSecret = Field(
        SecretStr("web-app-secret"), validation_alias=env("WEB_APP_CLIENT_SECRET", "client_secret")
    )
    base_url: str = Field("http://localhost:3000", validation_alias=env("WEB_APP_BASE_URL", "base_url"))
    source_api_audience: NonBlank = Field(
        "https://source-api.example.com", validation_alias=env("SOURCE_API_AUDIENCE", "source_api_audience")
    )
    source_api_url: str = Field(
        "http://localhost:3001", validation_alias=env("WEB_APP_SOURCE_API_URL", "source_api_url")
    )
    scope: str = Field(
        "openid profile email offline_access read:profile read:contacts",
        validation_alias=env("WEB_APP_SCOPE", "scope"),
    )
    # Unset: one is made on first start and kept in the data folder (see session_secret.py).
    session_secret: NonBlankSecret | None = Field(
        None, validation_alias=env("WEB_APP_SESSION_SECRET", "session_secret")
    )
    # Empty: sessions in files in data_dir. redis:// or rediss://: in that Redis, shared by
    # web app replicas (web_app/session_store/in_redis.py).
    session_url: str = Field("", validation_alias=env("WEB_APP_SESSION_URL", "session_url"))
    session_lifetime: int = Field(8 * 3600, gt=0, validation_alias=env("WEB_APP_SESSION_LIFETIME", "session_lifetime"))
    data_dir: Path = Field(SERVICE_DIR / "instance", validation_alias=env("WEB_APP_DATA_DIR", "data_dir"))
    troubleshooting_file: Path = Field(
        REPOSITORY / "docs" / "troubleshooting.md",
        validation_alias=env("WEB_APP_TROUBLESHOOTING_FILE", "troubleshooting_file"),
    )
    connect_timeout: float = Field(
        3.05, gt=0, le=60, validation_alias=env("WEB_APP_CONNECT_TIMEOUT", "connect_timeout")
    )
    idp_timeout: float = Field(10, gt=0, le=120, validation_alias=env("WEB_APP_IDP_TIMEOUT", "idp_timeout"))
    # Longer than the Source API's own upstream timeouts, so its 504 reaches us first.
    source_api_timeout: float = Field(
        20, gt=0, le=300, validation_alias=env("WEB_APP_SOURCE_API_TIMEOUT", "source_api_timeout")
    )

    # The flow inspector and the "break it" panel (see obo_common/demo_tools.py).
    demo_tools: DemoToolsSetting = Field("auto", validation_alias=env("DEMO_TOOLS", "demo_tools"))
    # Sent to the Source API's operator endpoint (the panel forgets its cached tokens).
    # Unset: read from OPERATOR_SECRET_FILE, by default the data folder's operator-secret,
    # made there at first start (both workers read the same file).
    operator_secret: NonBlankSecret | None = Field(None, validation_alias=env("OPERATOR_SECRET", "operator_secret"))
    operator_secret_file: Path | None = Field(
        None, validation_alias=env("OPERATOR_SECRET_FILE", "operator_secret_file")
    )
    # The panel changes the tenant through the Management API with this client.
    management_client_id: NonBlank = Field(
        "management", min_length=1, validation_alias=env("WEB_APP_MANAGEMENT_CLIENT_ID", "management_client_id")
    )
    management_client_secret: NonBlankSecret = Field(
        SecretStr("management-secret"),
        validation_alias=env("WEB_APP_MANAGEMENT_CLIENT_SECRET", "management_client_secret"),
    )

    # Logout when discovery names no end_session_endpoint. auto: the provider's /v2/logout
    # if the issuer is one of its tenants (PROVIDER_TENANT_DOMAINS), else only this app's
    # session ends; v2-logout: always /v2/logout; none: never.
    logout_fallback: Literal["auto", "v2-logout", "none"] = Field(
        "auto", validation_alias=env("WEB_APP_LOGOUT_FALLBACK", "logout_fallback")
    )

    @field_validator("base_url", "source_api_url")
    @classmethod
    def http_url(cls, value: str) -> str:
        return http_url(value, "http://localhost:3000").rstrip("/")

    @field_validator("session_url")
    @classmethod
    def session_url_is_redis(cls, value: str) -> str:
        return redis_url(value)

    @field_validator("scope")
    @classmethod
    def scope_asks_for_an_id_token(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("must include 'openid': the app reads who the user is from the ID token")
        return " ".join(value.split())

    @property
    def guide_urls(self) -> dict[str, str]:
        """The URLs docs/troubleshooting.md is written with (`make up`'s defaults, no trailing
        slash) -> this stack's, for the pages that show the guide."""
        fields = type(self).model_fields
        return {
            fields["issuer"].default.rstrip("/"): self.issuer.rstrip("/"),
            fields["base_url"].default: self.base_url,
            fields["source_api_url"].default: self.source_api_url,
        }

    @property
    def callback_url(self) -> str:
        return self.base_url + "/callback"

    @property
    def logout_return_url(self) -> str:
        return self.base_url + "/"

    @field_validator("operator_secret")
    @classmethod
    def no_published_operator_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value:  # raises for the published one
            operator_secret(value.get_secret_value(), None, info.data.get("demo_tools", "auto"))
        return value

    def load_operator_secret(self) -> str:
        configured = self.operator_secret.get_secret_value() if self.operator_secret else None
        file = self.operator_secret_file or self.data_dir.resolve() / "operator-secret"
        return operator_secret(configured, file, self.demo_tools)

    @property
    def management_audience(self) -> str:
        # Also the Management API's base URL, as the provider documents it.
        return self.issuer + MANAGEMENT_API_PATH

    @property
    def legacy_logout_url(self) -> str | None:
        """The provider's own logout URL, when ``logout_fallback`` says to use it."""
        host = urlsplit(self.issuer).hostname or ""
        of_the_provider = host.endswith(PROVIDER_TENANT_DOMAINS)
        if self.logout_fallback == "v2-logout" or (self.logout_fallback == "auto" and of_the_provider):
            return self.issuer + LEGACY_LOGOUT_PATH
        return None

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def idp_timeouts(self) -> tuple[float, float]:
        return (self.connect_timeout, self.idp_timeout)

    @property
    def source_api_timeouts(self) -> tuple[float, float]:
        return (self.connect_timeout, self.source_api_timeout)
