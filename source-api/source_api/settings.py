"""source-api settings, read from the environment in one place.

Each value comes from a field of the provider's dashboard (see .env.example). What every
app service shares (issuer, back-channel address, leeway, how a bad value is reported) is
in ``obo_common.settings_base``.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from obo_common.demo_tools import DemoToolsSetting, operator_secret
from obo_common.settings_base import ApiSettings, NonBlank, env, http_url, redis_url

#: the shortest SOURCE_API_TOKEN_CACHE_KEY accepted (the entries' keys are derived from it)
MIN_CACHE_KEY_LENGTH = 32


class Settings(ApiSettings):
    # This API's identifier (the audience of the user's tokens).
    audience: NonBlank = Field(
        "https://source-api.example.com", validation_alias=env("SOURCE_API_AUDIENCE", "audience")
    )
    # The Source API's own client, from its Token Exchange Settings.
    client_id: NonBlank = Field("source-api", validation_alias=env("SOURCE_API_CLIENT_ID", "client_id"))
    client_secret: NonBlank = Field(
        "source-api-secret", validation_alias=env("SOURCE_API_CLIENT_SECRET", "client_secret")
    )
    target_audience: NonBlank = Field(
        "https://target-api.example.com", validation_alias=env("TARGET_API_AUDIENCE", "target_audience")
    )
    target_url: str = Field("http://localhost:3002", validation_alias=env("SOURCE_API_TARGET_URL", "target_url"))
    # Asked for in the exchange: within the pairing's scopes, plus offline_access for a
    # Target API refresh token (issued only if the Target API allows offline access).
    exchange_scope: NonBlank = Field(
        "read:contacts offline_access", validation_alias=env("SOURCE_API_EXCHANGE_SCOPE", "exchange_scope")
    )
    # The tenant's On-Behalf-Of profile (docs/configuration.md): legacy, the tutorial's;
    # current, the provider's current one, which requires requested_token_type and takes
    # an actor token (the Source API's own client-credentials token) for delegation.
    exchange_profile: Literal["legacy", "current"] = Field(
        "legacy", validation_alias=env("SOURCE_API_EXCHANGE_PROFILE", "exchange_profile")
    )
    send_actor_token: bool = Field(False, validation_alias=env("SOURCE_API_SEND_ACTOR_TOKEN", "send_actor_token"))
    # A cached Target API token is renewed this many seconds before it expires.
    renew_margin: int = Field(60, ge=0, validation_alias=env("SOURCE_API_RENEW_MARGIN", "renew_margin"))
    # Token exchanges one user (the token's sub) may cause per window of seconds; only
    # real exchanges count, not cached tokens (see source_api/exchange_budget.py).
    user_exchange_limit: int = Field(
        20, gt=0, validation_alias=env("SOURCE_API_USER_EXCHANGE_LIMIT", "user_exchange_limit")
    )
    user_exchange_window: int = Field(
        60, gt=0, le=86400, validation_alias=env("SOURCE_API_USER_EXCHANGE_WINDOW", "user_exchange_window")
    )
    cache_size: int = Field(1000, gt=0, validation_alias=env("SOURCE_API_CACHE_SIZE", "cache_size"))
    # Where the Target API tokens are cached: empty, in this process; redis:// or rediss://,
    # in Redis, shared by every replica (docs/scale-out.md). Entries are encrypted with a key
    # derived from token_cache_key, which Redis mode requires.
    token_cache_url: str = Field("", validation_alias=env("SOURCE_API_TOKEN_CACHE_URL", "token_cache_url"))
    token_cache_key: SecretStr | None = Field(
        None, validation_alias=env("SOURCE_API_TOKEN_CACHE_KEY", "token_cache_key")
    )
    # Each Redis command waits at most this long: a slow Redis costs an exchange, not the request.
    token_cache_timeout: float = Field(
        0.25, gt=0, le=5, validation_alias=env("SOURCE_API_TOKEN_CACHE_TIMEOUT", "token_cache_timeout")
    )
    connect_timeout: float = Field(3.05, gt=0, validation_alias=env("SOURCE_API_CONNECT_TIMEOUT", "connect_timeout"))
    read_timeout: float = Field(5.0, gt=0, validation_alias=env("SOURCE_API_READ_TIMEOUT", "read_timeout"))

    # The trace for the flow inspector and the operator endpoint (see obo_common/demo_tools.py).
    demo_tools: DemoToolsSetting = Field("auto", validation_alias=env("DEMO_TOOLS", "demo_tools"))
    # Unset: read from OPERATOR_SECRET_FILE (made there at first start); with neither, the
    # operator endpoints and the trace answer nobody.
    operator_secret: NonBlank | None = Field(None, validation_alias=env("OPERATOR_SECRET", "operator_secret"))
    operator_secret_file: Path | None = Field(
        None, validation_alias=env("OPERATOR_SECRET_FILE", "operator_secret_file")
    )

    @field_validator("target_url")
    @classmethod
    def target_url_is_http(cls, value: str) -> str:
        return http_url(value, "http://localhost:3002")

    @field_validator("token_cache_url")
    @classmethod
    def token_cache_url_is_redis(cls, value: str) -> str:
        return redis_url(value)

    @model_validator(mode="after")
    def redis_cache_needs_a_key(self):
        if not self.token_cache_url:
            return self
        key = self.token_cache_key.get_secret_value() if self.token_cache_key else ""
        if len(key.strip()) < MIN_CACHE_KEY_LENGTH:
            # Named by its variable: pydantic would name only the URL's field for a model check.
            raise ValueError(
                f"SOURCE_API_TOKEN_CACHE_KEY must be set to at least {MIN_CACHE_KEY_LENGTH} characters "
                "with SOURCE_API_TOKEN_CACHE_URL (it encrypts the cached tokens)"
            )
        return self

    @property
    def token_cache_kind(self) -> str:
        return "redis" if self.token_cache_url else "memory"

    @model_validator(mode="after")
    def actor_token_needs_the_current_profile(self):
        if self.send_actor_token and self.exchange_profile != "current":
            raise ValueError("SOURCE_API_SEND_ACTOR_TOKEN needs SOURCE_API_EXCHANGE_PROFILE=current")
        return self

    @field_validator("operator_secret")
    @classmethod
    def no_published_operator_secret(cls, value: str | None, info: ValidationInfo) -> str | None:
        operator_secret(value, None, info.data.get("demo_tools", "auto"))  # raises for the published one
        return value

    def load_operator_secret(self) -> str:
        return operator_secret(self.operator_secret, self.operator_secret_file, self.demo_tools)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)
