"""benchmarks.chain_in_process: the chain answers through a real Target API server, and
every row is measured."""

from __future__ import annotations

from benchmarks import chain_in_process


def test_it_prints_the_chain_its_floors_and_the_bare_clients(capsys, monkeypatch):
    for name in ("BENCH_TARGET_URL", "BENCH_TARGET_TOKEN", "BENCH_CLIENT"):  # set by the tool: put back after
        monkeypatch.setenv(name, "")
    chain_in_process.main(["--calls", "3", "--rounds", "1"])
    out = capsys.readouterr().out
    assert out.startswith("CPU per call, best of 1 rounds of 3:")
    for row in (
        "source-api chain (warm cache)",
        "floor: pass-through, http.client",
        "floor: pass-through, urllib3",
        "bare http.client",
        "bare urllib3 HTTPConnectionPool",
    ):
        assert f"  {row}" in out
