"""benchmarks.target_api_in_process: the Target API really checks the token it is sent, and
both apps answer the same contacts."""

from __future__ import annotations

import json

import pytest

from benchmarks import target_api_in_process
from obo_testing import FakeNetwork


def test_both_answer_alices_contacts_and_the_target_api_checks_the_token(tmp_path):
    with FakeNetwork().installed() as network:
        target, floor = target_api_in_process.calls(tmp_path, network)
        assert json.loads(target.send()) == json.loads(floor.send())
        target.environ["HTTP_AUTHORIZATION"] = target.environ["HTTP_AUTHORIZATION"][:-4] + "AAAA"
        with pytest.raises(SystemExit, match="401"):
            target.send()


def test_it_prints_both_costs_and_their_ratio(capsys):
    assert target_api_in_process.main(["--requests", "2", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CPU per request, us (best of 2 rounds of 2): Target API ")
    assert "trivial Flask app" in out
    assert "ratio" in out
