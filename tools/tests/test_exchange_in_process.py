"""benchmarks.exchange_in_process: its exchanges are real ones, answered as the Source API's."""

from __future__ import annotations

import json

from joserfc import jwt

from benchmarks import exchange_in_process
from benchmarks.exchange_in_process import TARGET_API, Exchanges


def test_each_exchange_is_answered_with_a_target_api_token(tmp_path):
    bench = Exchanges(tmp_path)
    answer = json.loads(bench.one())
    assert answer["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert answer["scope"] == "read:contacts"
    claims = jwt.decode(answer["access_token"], bench.app.extensions["mock_idp"].keys.published()).claims
    assert (claims["aud"], claims["client_id"]) == (TARGET_API, "source-api")
    assert json.loads(bench.one())["access_token"] != answer["access_token"]  # the same request, again


def test_it_prints_the_cpu_time_of_each_round(capsys):
    assert exchange_in_process.main(["--exchanges", "2", "--rounds", "2"]) == 0
    assert capsys.readouterr().out.startswith("CPU per exchange, us: ")
