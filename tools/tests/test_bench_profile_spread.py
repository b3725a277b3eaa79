"""bench_profile spread: connections counted per worker from `ss`."""

from __future__ import annotations

import subprocess

from benchmarks import bench_profile

SS = (
    'ESTAB 0 0 127.0.0.1:3002 127.0.0.1:50001 users:(("gunicorn",pid=11,fd=9))\n'
    'ESTAB 0 0 127.0.0.1:3002 127.0.0.1:50002 users:(("gunicorn",pid=12,fd=9))\n'
    'ESTAB 0 0 127.0.0.1:3002 127.0.0.1:50003 users:(("gunicorn",pid=11,fd=10))\n'
    'ESTAB 0 0 127.0.0.1:3002 127.0.0.1:50004 users:(("gunicorn",pid=11,fd=11))\n'
)


def test_each_workers_connections_are_counted_fewest_first(monkeypatch):
    asked = []

    def run(command, **kwargs):
        asked.append(command)
        return subprocess.CompletedProcess(command, 0, stdout=SS, stderr="")

    monkeypatch.setattr(bench_profile.subprocess, "run", run)
    assert bench_profile.connections_per_worker(3002) == [1, 3]
    assert asked[0][-1] == "( sport = :3002 )"
