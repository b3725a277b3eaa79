"""obo_common.bearer: the Authorization header read, the WWW-Authenticate challenge built and read."""

import pytest

from obo_common.bearer import bearer_challenge, bearer_token, parse_bearer_challenge


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
        ("Bearer ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_the_bearer_token_is_read_from_the_authorization_header(header, token):
    assert bearer_token(header) == token


def test_a_challenge_names_only_what_it_is_given():
    assert bearer_challenge("operator") == 'Bearer realm="operator"'
    assert bearer_challenge("https://api", "invalid_token", "The access token expired") == (
        'Bearer realm="https://api", error="invalid_token", error_description="The access token expired"'
    )
    assert bearer_challenge("https://api", "insufficient_scope", "Needs more", "read:contacts").endswith(
        ', scope="read:contacts"'
    )


def test_what_is_built_reads_back_even_with_quotes_in_the_description():
    header = bearer_challenge("r", "invalid_token", 'Invalid "redirect_uri" \\ here', "a b")
    assert parse_bearer_challenge(header) == {
        "realm": "r",
        "error": "invalid_token",
        "error_description": 'Invalid "redirect_uri" \\ here',
        "scope": "a b",
    }


def test_a_challenge_of_another_provider_is_read_too():
    assert parse_bearer_challenge('bearer Realm="x",error=invalid_token') == {"realm": "x", "error": "invalid_token"}
    assert parse_bearer_challenge("Bearer") == {}
    assert parse_bearer_challenge('Basic realm="x"') is None
    assert parse_bearer_challenge(None) is None
