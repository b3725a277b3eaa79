"""The scaled layout: which processes, on which ports, with which settings, and HAProxy's config."""

import shutil
import stat
import subprocess

import pytest

from local_stack import launcher, scale_out
from workshop import layout_diagram


def four(tmp_path) -> list[launcher.Service]:
    ports = {"mock-idp": 41000, "target-api": 41002, "source-api": 41001, "web-app": 41003}
    return launcher.isolated_stack(ports, tmp_path)


@pytest.mark.parametrize("given", ["0", "-1", "two", "17", "1.5", " "])
def test_a_replica_count_that_is_not_a_small_whole_number_is_refused_by_name(given):
    with pytest.raises(ValueError, match="SOURCE_API_REPLICAS="):
        scale_out.replica_count({"SOURCE_API_REPLICAS": given})


@pytest.mark.parametrize(("given", "count"), [(None, 1), ("", 1), ("1", 1), ("3", 3), (" 16 ", 16)])
def test_the_replica_count(given, count):
    values = {} if given is None else {"SOURCE_API_REPLICAS": given}

    assert scale_out.replica_count(values) == count


def test_the_source_api_becomes_replicas_behind_a_balancer_on_its_port_with_redis_first(tmp_path):
    layout = scale_out.scaled(four(tmp_path), 3, tmp_path / "run", key="k" * 32)

    names = [s.name for s in layout]
    assert names == [
        "mock-idp",
        "target-api",
        "redis",
        "source-api-1",
        "source-api-2",
        "source-api-3",
        "load-balancer",
        "web-app",
    ]
    by_name = {s.name: s for s in layout}
    assert by_name["load-balancer"].port == 41001
    replicas = [by_name[f"source-api-{n}"] for n in (1, 2, 3)]
    assert len({r.port for r in replicas} | {41001, by_name["redis"].port}) == 5
    for replica in replicas:
        assert replica.directory == "source-api"
        assert replica.app == "source_api.wsgi:app"
        assert replica.env["SOURCE_API_TOKEN_CACHE_URL"] == f"redis://127.0.0.1:{by_name['redis'].port}/0"
        assert replica.env["SOURCE_API_TOKEN_CACHE_KEY"] == "k" * 32
        assert replica.env["SOURCE_API_TARGET_URL"] == "http://localhost:41002"  # the stack's own settings kept
    assert by_name["redis"].command[1:] == (
        *("--port", str(by_name["redis"].port), "--bind", "127.0.0.1"),
        *("--save", "", "--appendonly", "no", "--daemonize", "no"),
    )


def test_a_redis_named_by_the_settings_is_used_and_none_started(tmp_path):
    layout = scale_out.scaled(four(tmp_path), 2, tmp_path / "run", "redis://127.0.0.1:6399/0", "k" * 32)

    assert "redis" not in [s.name for s in layout]
    assert {s.env["SOURCE_API_TOKEN_CACHE_URL"] for s in layout if s.name.startswith("source-api-")} == {
        "redis://127.0.0.1:6399/0"
    }


def test_the_balancer_config_checks_health_retries_elsewhere_and_lists_each_replica(tmp_path):
    layout = scale_out.scaled(four(tmp_path), 3, tmp_path / "run", key="k" * 32)
    config = (tmp_path / "run" / "haproxy.cfg").read_text()

    for line in ("bind 127.0.0.1:41001", "option httpchk GET /healthz", "option redispatch", "retries 2"):
        assert line in config
    for replica in (s for s in layout if s.name.startswith("source-api-")):
        assert f"server {replica.name} 127.0.0.1:{replica.port} check" in config


@pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy is not installed (.ci/run installs it)")
def test_haproxy_itself_accepts_the_config(tmp_path):
    scale_out.scaled(four(tmp_path), 3, tmp_path / "run", key="k" * 32)

    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(tmp_path / "run" / "haproxy.cfg")], capture_output=True, text=True, check=False
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_without_a_key_in_the_settings_one_is_made_once_kept_private_and_reused(tmp_path):
    first = scale_out.cache_key({}, tmp_path)

    assert len(first) >= 32
    assert stat.S_IMODE((tmp_path / "token-cache.key").stat().st_mode) == 0o600
    assert scale_out.cache_key({}, tmp_path) == first
    assert scale_out.cache_key({"SOURCE_API_TOKEN_CACHE_KEY": "s" * 40}, tmp_path) == "s" * 40


def test_the_balancers_config_for_compose_is_the_one_the_layout_makes():
    """load-balancer/haproxy.cfg is written by `python -m local_stack.scale_out`: run it after a change."""
    assert scale_out.COMPOSE_CONFIG.read_text() == scale_out.compose_haproxy_config()


def test_the_compose_config_names_each_replica_and_resolves_them_as_they_run():
    config = scale_out.compose_haproxy_config()

    for name in ("source-api-1", "source-api-2", "source-api-3"):
        assert f"server {name} {name}:3001 check" in config
    assert "bind *:3001" in config
    assert "parse-resolv-conf" in config


def test_the_layout_picture_in_the_docs_is_current():
    """docs/scale-out.md's picture is drawn by `python -m workshop.layout_diagram`: run it after a change."""
    assert layout_diagram.current_block(layout_diagram.DOC.read_text()) == layout_diagram.block()


def test_the_picture_follows_the_compose_files():
    layout = layout_diagram.compose()
    replica = layout["services"]["source-api-2"]
    replica["environment"] = {**replica["environment"], "SOURCE_API_TARGET_URL": "http://mock-idp:9000"}
    picture = layout_diagram.draw(layout, scale_out.compose_haproxy_config())

    assert "source-api-3 :3001 (haproxy.cfg): calls what source-api-1 calls" in picture
    assert "source-api-2 :3001 (haproxy.cfg)\n" in picture  # no longer like the others: drawn on its own
