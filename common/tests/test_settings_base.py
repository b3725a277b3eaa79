import pytest
from pydantic import Field, ValidationError

from obo_common.settings_base import NonBlank, ServiceSettings, env, load_settings


class ExampleSettings(ServiceSettings):
    audience: NonBlank = Field("https://api.example.com", validation_alias=env("EXAMPLE_AUDIENCE", "audience"))


class SlashSettings(ServiceSettings):
    issuer_ends_in_slash = True


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("OIDC_ISSUER", "IDP_INTERNAL_URL", "TOKEN_LEEWAY", "EXAMPLE_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)


def test_the_defaults_are_the_demo_provider():
    settings = ExampleSettings()
    assert (settings.issuer, settings.idp_internal_url, settings.leeway) == ("http://localhost:9000/", None, 30)


@pytest.mark.parametrize("issuer", ["localhost:9000", "localhost:9000/", "http://", "ftp://idp.example.com/", "/"])
def test_an_issuer_that_is_not_an_absolute_http_url_is_refused(issuer):
    with pytest.raises(ValidationError, match="must be an http\\(s\\) URL"):
        ExampleSettings(issuer=issuer)


def test_a_service_that_appends_to_the_issuer_also_needs_its_trailing_slash():
    assert ExampleSettings(issuer="https://idp.example.com").issuer == "https://idp.example.com"
    with pytest.raises(ValidationError, match="ending in '/'"):
        SlashSettings(issuer="https://idp.example.com")


def test_an_empty_variable_means_the_default_and_a_blank_one_is_refused(monkeypatch):
    monkeypatch.setenv("EXAMPLE_AUDIENCE", "")
    assert ExampleSettings().audience == "https://api.example.com"
    monkeypatch.setenv("EXAMPLE_AUDIENCE", "  ")
    with pytest.raises(ValidationError, match="must not be blank"):
        ExampleSettings()


def test_a_bad_value_ends_the_process_with_one_line_naming_each_variable(monkeypatch):
    monkeypatch.setenv("OIDC_ISSUER", "localhost:9000")
    monkeypatch.setenv("EXAMPLE_AUDIENCE", " ")
    with pytest.raises(SystemExit) as stopped:
        load_settings(ExampleSettings, "example-api")
    message = str(stopped.value.code)
    assert message.startswith("example-api: invalid settings: OIDC_ISSUER: Value error, must be an http(s) URL")
    assert "; EXAMPLE_AUDIENCE: Value error, must not be blank" in message
    assert "\n" not in message
