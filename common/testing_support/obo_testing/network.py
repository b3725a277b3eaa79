"""The network as the unit suites see it: a requests transport that answers every request of
every ``requests.Session`` (the code's own, Authlib's) from the test, by URL or by host.

``FakeNetwork.installed()`` puts it under every session; from then on
``network.route(method, url, answer)`` gives one URL a canned or computed answer,
``network.serve(base_url, wsgi_app)`` hands every path of a host to a WSGI app (a Flask
stand-in for a whole service), ``network.down`` / ``network.slow`` make hosts fail as a
refused connection or a read timeout would, and ``network.calls`` records what was sent.
"""

from __future__ import annotations

import http
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import NewConnectionError, ReadTimeoutError
from werkzeug.test import Client


def response(
    status: int = 200, json_body: Any = None, *, text: str | None = None, headers: dict | None = None
) -> requests.Response:
    """A real ``requests.Response`` carrying JSON (or ``text``)."""
    answer = requests.Response()
    answer.status_code = status
    try:
        answer.reason = http.HTTPStatus(status).phrase
    except ValueError:
        answer.reason = ""
    answer.headers = CaseInsensitiveDict(headers or {})
    if text is not None:
        answer._content = text.encode()
        answer.headers.setdefault("Content-Type", "text/plain")
    else:
        answer._content = json.dumps(json_body).encode()
        answer.headers.setdefault("Content-Type", "application/json")
    answer.encoding = "utf-8"
    return answer


@dataclass
class Call:
    """One request as it left the process: after the session added its headers and encoded
    the body. ``data`` and ``json`` read the body back (a form as a dict, JSON as parsed)."""

    method: str
    url: str
    headers: dict
    body: bytes | None
    timeout: Any

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def data(self) -> dict | None:
        if not self.body or not self._content_type("application/x-www-form-urlencoded"):
            return None
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def json(self) -> Any:
        if not self.body or not self._content_type("application/json"):
            return None
        return json.loads(self.body)

    def _content_type(self, expected: str) -> bool:
        value = CaseInsensitiveDict(self.headers).get("Content-Type", "")
        return value.split(";")[0].strip() == expected


@dataclass
class _Sent:
    """A request as urllib3 is given it, with the fields ``FakeNetwork.send`` reads."""

    method: str
    url: str
    headers: dict
    body: Any


class FakeNetwork(BaseAdapter):
    """A requests transport adapter answering from the test.

    ``route(method, url, answer)``: ``answer`` is a ``requests.Response``, a ``(status,
    json)`` or ``(status, json, headers)`` tuple, a dict (200 with that JSON), an exception
    (class or instance) to raise, a callable taking the ``Call`` and returning any of these,
    or a list of them used in turn (the last one repeats). Routing the same method and URL
    again replaces the answer; a route wins over a served host. Hosts in ``down`` refuse the
    connection and hosts in ``slow`` time out, whatever is routed; anything else fails as a
    refused connection would.
    """

    def __init__(self):
        super().__init__()
        self.routes: dict[tuple[str, str], Any] = {}
        self.hosts: dict[str, Any] = {}
        self.down: set[str] = set()
        self.slow: set[str] = set()
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[FakeNetwork]:
        """While open, every ``requests.Session`` sends through this network, and so does
        every urllib3 ``PoolManager`` (a client that uses urllib3's pool directly)."""
        original = requests.Session.get_adapter
        original_urlopen = urllib3.PoolManager.urlopen
        requests.Session.get_adapter = lambda session, url: self
        urllib3.PoolManager.urlopen = lambda manager, method, url, **kw: self.urlopen(method, url, **kw)
        try:
            yield self
        finally:
            requests.Session.get_adapter = original
            urllib3.PoolManager.urlopen = original_urlopen

    def urlopen(self, method: str, url: str, body=None, headers=None, timeout=None, **kw) -> urllib3.BaseHTTPResponse:
        """What urllib3 would answer, with retries off: its own exceptions for a refused
        connection and a timeout, an ``HTTPResponse`` otherwise."""
        if isinstance(timeout, urllib3.Timeout):
            timeout = (timeout.connect_timeout, timeout.read_timeout)
        sent = _Sent(method.upper(), url, dict(headers or {}), body)
        try:
            answered = self.send(sent, timeout=timeout)
        except requests.Timeout as error:
            raise ReadTimeoutError(None, url, str(error)) from None
        except requests.ConnectionError as error:
            raise NewConnectionError(None, f"Failed to establish a new connection: {error}") from None  # type: ignore[arg-type]
        return urllib3.HTTPResponse(
            body=answered.content,
            headers=dict(answered.headers),
            status=answered.status_code,
            reason=answered.reason,
            request_url=url,
        )

    def route(self, method: str, url: str, answer: Any) -> None:
        with self._lock:
            self.routes[(method.upper(), url)] = list(answer) if isinstance(answer, list) else answer

    def serve(self, base_url: str, app: Any) -> None:
        """Every request to ``base_url``'s host goes to the WSGI ``app``."""
        self.hosts[host_of(base_url)] = app

    def calls_to(self, method: str, url: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method.upper() and call.url == url]

    def calls_to_path(self, path: str) -> list[Call]:
        """Calls of any method to ``path`` on any host."""
        with self._lock:
            return [call for call in self.calls if call.path == path]

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = request.body.encode() if isinstance(request.body, str) else request.body
        call = Call(request.method, request.url, dict(request.headers), body, timeout)
        host = host_of(request.url)
        with self._lock:
            self.calls.append(call)
            if host in self.slow:
                raise requests.ReadTimeout(f"{host} did not answer in time", request=request)
            answer = None if host in self.down else self.routes.get((call.method, call.url.split("?")[0]))
            if isinstance(answer, list):
                answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if host in self.down or (answer is None and host not in self.hosts):
            raise requests.ConnectionError(f"cannot connect to {host}", request=request)
        answered = _answer(answer, call) if answer is not None else _from_wsgi(self.hosts[host], call)
        answered.url, answered.request = request.url, request
        return answered

    def close(self) -> None:
        pass


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _answer(answer: Any, call: Call) -> requests.Response:
    if isinstance(answer, BaseException) or (isinstance(answer, type) and issubclass(answer, BaseException)):
        raise answer
    if callable(answer):
        return _answer(answer(call), call)
    if isinstance(answer, requests.Response):
        return answer
    if isinstance(answer, tuple):
        return response(*answer[:2], headers=answer[2] if len(answer) > 2 else None)
    if isinstance(answer, dict):
        return response(200, answer)
    raise TypeError(f"FakeNetwork cannot answer with {answer!r}")


def _from_wsgi(app: Any, call: Call) -> requests.Response:
    parts = urlsplit(call.url)
    answer = Client(app).open(
        parts.path, query_string=parts.query, method=call.method, headers=call.headers, data=call.body
    )
    converted = requests.Response()
    converted.status_code = answer.status_code
    converted.reason = answer.status.partition(" ")[2]
    converted.headers = CaseInsensitiveDict(answer.headers)
    converted._content = answer.get_data()
    converted.encoding = "utf-8"
    return converted
