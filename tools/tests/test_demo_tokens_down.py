"""`make tokens` with the demo down: one clear line, not a connection error's repr."""

from __future__ import annotations

import socket

from workshop import demo_tokens


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_nothing_listening_it_says_the_demo_is_not_up(monkeypatch, capsys):
    issuer = f"http://127.0.0.1:{closed_port()}/"
    monkeypatch.setenv("OIDC_ISSUER", issuer)

    assert demo_tokens.main([]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing for eval to run
    assert captured.err == (
        f"tokens: the identity provider does not answer at {issuer}: is the demo up? "
        "Start it with `make up` (its URLs come from .env, as here).\n"
    )
    assert demo_tokens.main(["--code"]) == 1
    assert "Max retries" not in capsys.readouterr().err
