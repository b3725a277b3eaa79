"""The orchestration's own logic: start order, ports, environment, podman's settings,
healthchecks that survive argument splitting, bounded commands."""

import sys
from pathlib import Path

import pytest
import yaml

from container_test import check_dockerfiles, container_network, containers_test
from container_test.container_engine import Engine, containers_conf
from container_test.container_steps import StepFailed, Steps

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)


def test_services_start_after_what_they_depend_on():
    assert containers_test.start_order(COMPOSE) == ["mock-idp", "target-api", "source-api", "web-app"]


def test_start_order_reads_both_forms_of_depends_on_and_refuses_a_cycle():
    compose = {"services": {"c": {"depends_on": ["b"]}, "b": {"depends_on": {"a": {}}}, "a": {}}}
    assert containers_test.start_order(compose) == ["a", "b", "c"]

    with pytest.raises(ValueError, match="cycle"):
        containers_test.start_order({"services": {"a": {"depends_on": ["b"]}, "b": {"depends_on": ["a"]}}})


def test_published_ports_are_the_host_side():
    ports = containers_test.published_ports(COMPOSE)

    assert ports == {"mock-idp": 9000, "target-api": 3002, "source-api": 3001, "web-app": 3000}


def test_a_developers_settings_for_the_compose_file_do_not_reach_the_test():
    environ = {"PATH": "/usr/bin", "OIDC_ISSUER": "https://tenant.example.com/", "EXCHANGE_RATE_LIMIT": "5"}

    env = containers_test.compose_environment(environ, COMPOSE_TEXT, {"EXCHANGE_RATE_LIMIT": "100000"})

    assert env == {"PATH": "/usr/bin", "EXCHANGE_RATE_LIMIT": "100000"}


def test_the_https_overrides_variables_are_the_tests_too():
    text = COMPOSE_TEXT + (ROOT / "docker-compose.https.yml").read_text()
    environ = {"PATH": "/usr/bin", "LOCAL_TLS_DIR": "/home/me/.run/tls"}

    assert containers_test.compose_environment(environ, text, {}) == {"PATH": "/usr/bin"}


def test_an_override_laid_over_comes_after_the_compose_file_with_its_settings(tmp_path):
    engine = Engine(Steps(tmp_path), "p", ROOT / "docker-compose.yml", {"A": "1"}, tmp_path)

    engine.lay_over(ROOT / "docker-compose.https.yml", {"OIDC_ISSUER": "https://localhost:9000/"})

    assert engine.files_arguments() == [
        "-f",
        str(ROOT / "docker-compose.yml"),
        "-f",
        str(ROOT / "docker-compose.https.yml"),
    ]
    assert engine.env == {"A": "1", "OIDC_ISSUER": "https://localhost:9000/"}
    assert containers_test.https_issuer_url({"mock-idp": 9000}) == "https://localhost:9000/"


def test_podman_settings_ask_no_more_than_the_machine_grants():
    conf = containers_conf(nofile_hard=20000, nproc_hard=96364)

    assert 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' in conf
    assert 'runtime = "runc"' in conf
    assert 'cgroup_manager = "cgroupfs"' in conf
    assert containers_conf(nofile_hard=1 << 30, nproc_hard=4096).count("nofile=1048576:1048576") == 1


def test_the_compose_healthchecks_run_a_copied_script_without_spaces():
    assert check_dockerfiles.healthcheck_problems(COMPOSE) == []


def test_the_scaled_layouts_healthchecks_run_what_their_images_copy():
    scale = yaml.safe_load((ROOT / "docker-compose.scale.yml").read_text())

    assert check_dockerfiles.healthcheck_problems(scale, source="docker-compose.scale.yml") == []


def test_a_healthcheck_problem_names_the_compose_file_it_is_in():
    service = {
        "build": {"dockerfile": "source-api/Dockerfile"},
        "healthcheck": {"test": ["CMD", "python", "/app/x.py"]},
    }

    problems = check_dockerfiles.healthcheck_problems({"services": {"source-api-1": service}}, source="scale.yml")

    assert problems == [
        "scale.yml: source-api-1: healthcheck runs /app/x.py but source-api/Dockerfile does not copy it"
    ]


def test_a_python_one_liner_healthcheck_is_refused():
    one_liner = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1/')"]
    compose = {
        "services": {"web-app": {"build": {"dockerfile": "web-app/Dockerfile"}, "healthcheck": {"test": one_liner}}}
    }

    assert check_dockerfiles.healthcheck_problems(compose) == [
        f"docker-compose.yml: web-app: healthcheck argument {one_liner[3]!r} holds a space"
    ]


def test_a_healthcheck_script_the_image_does_not_copy_is_named():
    compose = {
        "services": {
            "web-app": {
                "build": {"dockerfile": "web-app/Dockerfile"},
                "healthcheck": {"test": ["CMD", "python", "/app/check.py"]},
            }
        }
    }
    shell = {"services": {"web-app": {"healthcheck": {"test": "curl -f http://127.0.0.1:3000/healthz"}}}}

    assert check_dockerfiles.healthcheck_problems(compose) == [
        "docker-compose.yml: web-app: healthcheck runs /app/check.py but web-app/Dockerfile does not copy it"
    ]
    assert "must be a" in check_dockerfiles.healthcheck_problems(shell)[0]


def test_a_healthcheck_module_the_image_does_not_copy_is_named():
    module = ["CMD", "python", "-m", "obo_tools.healthcheck"]
    service = {"build": {"dockerfile": "web-app/Dockerfile"}, "healthcheck": {"test": module}}

    assert check_dockerfiles.healthcheck_problems({"services": {"web-app": service}}) == [
        "docker-compose.yml: web-app: healthcheck runs -m obo_tools.healthcheck but web-app/Dockerfile does not copy it"
    ]


def test_a_dockerfile_taking_a_file_out_of_the_tools_folder_is_refused(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim\nCOPY tools/local_stack/launcher.py common/serving ./\n")

    assert check_dockerfiles.problems_in(dockerfile) == [
        f"{dockerfile}:2: COPY tools/local_stack/launcher.py takes files of the tools folder"
    ]


def test_a_failing_command_raises_with_the_end_of_its_output(tmp_path):
    steps = Steps(tmp_path)

    with pytest.raises(StepFailed) as failure:
        steps.run([sys.executable, "-c", "print('the engine said no'); raise SystemExit(3)"], timeout=30)

    assert "exited 3" in str(failure.value)
    assert failure.value.detail == "the engine said no"


def test_a_command_that_outlives_its_timeout_is_ended(tmp_path):
    steps = Steps(tmp_path)

    with pytest.raises(StepFailed, match="did not finish within 2 s") as failure:
        steps.run(["sh", "-c", "echo started; exec sleep 60"], timeout=2)

    assert failure.value.detail == "started"


NETAVARK_NAT = [
    "-N NETAVARK-HOSTPORT-DNAT",
    "-N NETAVARK-HOSTPORT-MASQ",
    "-A PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT",
    '-A NETAVARK-HOSTPORT-MASQ -m comment --comment "netavark portfw masq mark" -j MASQUERADE',
]


def test_what_netavark_added_is_removed_rules_first():
    commands = container_network.undo_commands("iptables", "nat", [], NETAVARK_NAT)

    assert commands == [
        ["iptables", "-t", "nat", "-D", "NETAVARK-HOSTPORT-MASQ", "-m", "comment", "--comment",
         "netavark portfw masq mark", "-j", "MASQUERADE"],
        ["iptables", "-t", "nat", "-D", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j",
         "NETAVARK-HOSTPORT-DNAT"],
        ["iptables", "-t", "nat", "-X", "NETAVARK-HOSTPORT-DNAT"],
        ["iptables", "-t", "nat", "-X", "NETAVARK-HOSTPORT-MASQ"],
    ]  # fmt: skip


def test_netavark_chains_the_machine_had_before_are_left_alone():
    assert container_network.undo_commands("iptables", "nat", NETAVARK_NAT, NETAVARK_NAT) == []
