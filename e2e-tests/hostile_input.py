"""Hostile requests for the property tests (test_hostile_input.py): what the generated
values look like, how a request is sent, and what every answer must be.

Values are bytes, so a query string or a form can carry what no client library would
send on its own: non-UTF-8 bytes, a lone surrogate written in UTF-8's shape (ED A0 80),
control characters, very long runs. Each endpoint's known parameter names are mixed with
made-up ones, a parameter may repeat, and a body may be JSON nested thousands deep,
numbers beyond any integer type, or bytes under a content type they do not match.

The settings profiles: ``ci`` (the default: 10 examples per route and method, the
same examples each run) and ``thorough`` (many more, new ones each run), chosen with
``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field

import requests
from demo_tenant import MANAGEMENT_CLIENT, PASSWORD, SOURCE_CLIENT, TIMEOUT, WEB_APP
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Fixtures of the session (a login, a Management token) are shared by every example on
# purpose; each example is one or a few HTTP requests, so no deadline.
_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
# Shrinking over HTTP takes minutes; in CI the failing example is reported as generated.
settings.register_profile("ci", max_examples=10, derandomize=True, phases=[Phase.explicit, Phase.generate], **_COMMON)
settings.register_profile("thorough", max_examples=300, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# -- values --------------------------------------------------------------------------------

# Characters that broke a service once or are known to break parsers, quoting and logs.
ODD_TEXT = [
    '"', "\\", "'", "\t", "\x00", "\x1b[31m", "\x7f", "\r\n", "\n", "%", "%00", "%zz", "+", "&", "=", ";",
    "<script>", "${jndi:x}", "{{7*7}}", "é", "☃", "\u202e", "\ufeff", "\U0001d518", "ｱ", "٣", "²",
    " ", "", "null", "[]", "{}", "-1", "1e309", "99999999999999999999999999999",
]  # fmt: skip
ODD_BYTES = [
    b"\xed\xa0\x80",  # a lone surrogate (U+D800) in UTF-8's form: not valid UTF-8
    b"\xff\xfe",
    b"\xc3",  # a truncated two-byte sequence
    b"\xc0\xaf",  # an overlong "/"
    b"\x80",
    b"\xe9t\xe9",  # latin-1
]


def _long(unit: str) -> st.SearchStrategy[bytes]:
    return st.sampled_from([100, 2_000, 9_000, 70_000]).map(lambda n: (unit * n)[:n].encode())


text_bytes = st.one_of(
    st.sampled_from(ODD_TEXT).map(str.encode),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40).map(str.encode),
    st.binary(max_size=40),
    st.sampled_from(ODD_BYTES),
)
hostile_value = st.one_of(
    text_bytes,
    st.lists(text_bytes, min_size=2, max_size=4).map(b"".join),
    _long("a"),
    _long('é\\"'),
)


def hostile_params(names: list[str], fixed: dict[str, str] | None = None) -> st.SearchStrategy:
    """A query string or form as (name, value) pairs: ``fixed`` (a request that would
    otherwise be valid) with some of its values replaced, ``names`` given hostile values,
    made-up names, and repeats."""
    fixed = fixed or {}
    known = sorted(set(names) | set(fixed))
    name = st.one_of(st.sampled_from(known), text_bytes) if known else text_bytes
    pair = st.tuples(name, hostile_value)

    @st.composite
    def build(draw):
        pairs = [(k.encode(), v.encode()) for k, v in fixed.items()]
        for _ in range(draw(st.integers(0, 4))):
            replaced = draw(pair)
            if draw(st.booleans()):  # replace the value (or add a parameter) ...
                pairs = [p for p in pairs if p[0] != _bytes(replaced[0])]
            pairs.append((_bytes(replaced[0]), replaced[1]))  # ... or repeat it
        return draw(st.permutations(pairs))

    return build()


def _bytes(value) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(ODD_TEXT),
)


def json_values(names: list[str]) -> st.SearchStrategy:
    """Any JSON value, objects with ``names`` among their keys more often than not."""
    key = st.one_of(st.sampled_from(names), st.text(max_size=10)) if names else st.text(max_size=10)
    return st.recursive(
        json_leaf,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(key, inner, max_size=5)),
        max_leaves=12,
    )


def json_object(names: list[str]) -> st.SearchStrategy[dict]:
    values = json_values(names)
    return st.dictionaries(st.sampled_from(names), values, min_size=1, max_size=len(names)) if names else values


DEEP = [
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b"[" * 100_000,
]


@dataclass(frozen=True)
class Body:
    """What a request carries after its headers: bytes and the content type claimed."""

    data: bytes | list | None = None
    content_type: str | None = None


def _json_body(value) -> Body:
    return Body(json.dumps(value).encode(), "application/json")


def bodies(form_names: list[str], json_names: list[str], form: dict[str, str] | None = None) -> st.SearchStrategy:
    """A form (hostile values, non-UTF-8 bytes), JSON (deep, huge numbers, NaN), raw bytes
    under a content type that does not fit them, or nothing."""
    content_types = st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=iso-8859-1",
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/json; charset=utf-16",
            "\xe9/\xe9",
        ]
    )
    return st.one_of(
        st.just(Body()),
        hostile_params(form_names, form).map(lambda pairs: Body(pairs, "application/x-www-form-urlencoded")),
        json_object(json_names).map(_json_body),
        json_values(json_names).map(_json_body),
        st.sampled_from(DEEP).map(lambda data: Body(data, "application/json")),
        st.tuples(st.one_of(hostile_value, st.sampled_from(DEEP)), content_types).map(lambda b: Body(*b)),
    )


HEADER_NAMES = [
    "X-Request-Id", "Accept", "Accept-Language", "Accept-Encoding", "Cookie", "Origin", "Referer",
    "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "User-Agent", "If-None-Match", "X-Obo-Trace",
    "Content-Language", "Range", "Forwarded",
]  # fmt: skip
# What http.client lets through in a header value: no CR or LF, nothing leading blank.
_header_value = st.one_of(
    st.binary(max_size=60),
    text_bytes,
    _long("x"),
).map(lambda raw: re.sub(rb"[\r\n]", b"", raw).lstrip(b" \t\x0b\x0c"))
header_sets = st.dictionaries(st.sampled_from(HEADER_NAMES), _header_value, max_size=3)

basic_credentials = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(ODD_BYTES),
    st.tuples(st.sampled_from(ODD_BYTES), st.binary(max_size=10)).map(lambda p: p[0] + b":" + p[1]),
)
hostile_authorization = st.one_of(
    st.builds(lambda raw: b"Basic " + base64.b64encode(raw), basic_credentials),
    st.builds(lambda raw: b"Basic " + raw, st.binary(max_size=30).map(lambda r: re.sub(rb"[\r\n]", b"", r))),
    st.builds(lambda raw: b"Bearer " + raw, _header_value),
    _header_value,
)

# -- sending and checking -----------------------------------------------------------------


@dataclass
class Hostile:
    """One generated request."""

    method: str
    url: str
    params: list = field(default_factory=list)
    headers: dict = field(default_factory=dict)
    body: Body = field(default_factory=Body)

    def send(self, session: requests.Session | None = None) -> requests.Response:
        headers = dict(self.headers)
        if self.body.content_type is not None:
            headers["Content-Type"] = self.body.content_type.encode("latin-1")
        sender = session or requests
        return sender.request(
            self.method,
            self.url,
            params=self.params,
            data=self.body.data,
            headers=headers,
            allow_redirects=False,
            timeout=TIMEOUT,
        )


# Every secret the suite's stack knows: none may come back in an answer.
SECRETS = [
    WEB_APP["client_secret"],
    SOURCE_CLIENT["client_secret"],
    MANAGEMENT_CLIENT["client_secret"],
    PASSWORD,
    "demo-operator-secret",
]

JSON_TYPES = ("application/json", "application/problem+json")


def assert_well_formed(response: requests.Response, kind: str, secrets: list[str] = (), shown: str = "") -> None:
    """No 5xx; a refusal in the format ``kind`` documents; no secret in the answer.

    ``kind``: ``oauth`` (JSON ``error``, docs/mock-idp.md), ``management`` (the provider's
    ``statusCode``/``error``/``message``, docs/management-api.md), ``api`` (RFC 6750 JSON
    ``error`` or problem+json, docs/apis.md), ``html`` (a page). The HTTP server's own
    refusals of a request line or header it cannot parse (gunicorn's, before any
    application code) are HTML 4xx whatever the endpoint. ``shown``: what the endpoint
    shows to anyone (a guide quoting the demo secrets), whose secrets are not an echo.
    """
    what = f"{response.request.method} {response.request.url[:200]} -> {response.status_code}"
    assert response.status_code < 500, f"{what}\n{response.text[:2000]}"
    everything = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    for secret in (*SECRETS, *secrets):
        if secret in shown:
            continue
        assert secret not in everything, f"{what} echoes a secret"
    if response.status_code < 400:
        return
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if _gunicorn_refusal(response):
        return
    if kind == "html":
        assert content_type == "text/html", f"{what}: {content_type}\n{response.text[:500]}"
        assert re.search(r"<html|<!doctype html", response.text, re.I), f"{what}\n{response.text[:500]}"
        return
    challenge = response.headers.get("WWW-Authenticate", "")
    if response.status_code == 401 and challenge.startswith("Bearer") and "error=" not in challenge:
        # RFC 6750 3.1: a request without credentials gets the challenge and no error code
        # (docs/apis.md); the body, if any, says what to send.
        assert not response.content or isinstance(response.json(), dict), f"{what}\n{response.text[:500]}"
        return
    assert content_type in JSON_TYPES, f"{what}: {content_type}\n{response.text[:500]}"
    body = response.json()
    assert isinstance(body, dict), f"{what}: {body!r}"
    if kind == "management":
        assert body.get("statusCode") == response.status_code, f"{what}: {body}"
        assert all(isinstance(body.get(k), str) for k in ("error", "message")), f"{what}: {body}"
    elif content_type == "application/problem+json":
        assert body.get("status") == response.status_code, f"{what}: {body}"
        assert all(isinstance(body.get(k), str) for k in ("type", "title", "detail")), f"{what}: {body}"
    else:
        assert isinstance(body.get("error"), str), f"{what}: {body}"
        description = body.get("error_description")
        assert description is None or isinstance(description, str), f"{what}: {body}"


def _gunicorn_refusal(response: requests.Response) -> bool:
    """gunicorn's own page: HTML, without the headers every application answer carries."""
    return (
        response.status_code in (400, 414, 431)
        and response.headers.get("Content-Type", "").startswith("text/html")
        and "X-Content-Type-Options" not in response.headers
    )
