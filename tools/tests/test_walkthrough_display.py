"""The walkthrough's printout of a decoded token: who acted, for a delegated one."""

import base64
import io
import json

from workshop.walkthrough_display import Output


def _token(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'at+jwt'})}.{part(claims)}.c2ln"


def printed(claims: dict) -> list[str]:
    stream = io.StringIO()
    Output(stream).token("The Target API token", _token(claims))
    return stream.getvalue().splitlines()


def test_a_delegated_token_names_who_acted_newest_first():
    lines = printed({"sub": "auth0|alice", "act": {"sub": "source-api", "act": {"sub": "gateway"}}})

    assert "  acted: source-api, after gateway" in lines
    assert any("act (RFC 8693 4.1) names who called on the user's behalf" in line for line in lines)


def test_a_token_without_act_names_no_actor():
    lines = printed({"sub": "auth0|alice", "aud": "https://target-api.example.com"})

    assert not [line for line in lines if "acted" in line]
