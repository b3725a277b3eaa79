"""target-api settings, read from the environment in one place. What every app service
shares (issuer, back-channel address, leeway, how a bad value is reported) is in
``obo_common.settings_base``."""

from pathlib import Path

from pydantic import Field, field_validator

from obo_common.settings_base import ApiSettings, NonBlank, env
from obo_common.step_up import StepUpRequirement

SERVICE_DIR = Path(__file__).resolve().parent.parent


class Settings(ApiSettings):
    audience: NonBlank = Field(
        "https://target-api.example.com", validation_alias=env("TARGET_API_AUDIENCE", "audience")
    )
    database: Path = Field(
        SERVICE_DIR / "instance" / "target-api.sqlite3", validation_alias=env("TARGET_API_DATABASE", "database")
    )
    seed_file: Path = Field(SERVICE_DIR / "contacts.yaml", validation_alias=env("TARGET_API_SEED_FILE", "seed_file"))
    # Accept only delegated tokens, whose act claim names who acted (the provider's current
    # On-Behalf-Of profile with an actor token, docs/configuration.md).
    require_actor: bool = Field(False, validation_alias=env("TARGET_API_REQUIRE_ACTOR", "require_actor"))
    # Step-up (RFC 9470, docs/apis.md): the calls needing one of these scopes also need a
    # login of one of the ACR values (space-separated) and/or one at most MAX_AGE seconds old.
    step_up_scopes: str = Field("write:contacts", validation_alias=env("TARGET_API_STEP_UP_SCOPES", "step_up_scopes"))
    step_up_acr_values: str = Field("", validation_alias=env("TARGET_API_STEP_UP_ACR_VALUES", "step_up_acr_values"))
    step_up_max_age: int | None = Field(
        None, ge=0, validation_alias=env("TARGET_API_STEP_UP_MAX_AGE", "step_up_max_age")
    )

    @field_validator("step_up_max_age", mode="before")
    @classmethod
    def blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def step_up(self) -> StepUpRequirement:
        return StepUpRequirement(tuple(self.step_up_acr_values.split()), self.step_up_max_age)
