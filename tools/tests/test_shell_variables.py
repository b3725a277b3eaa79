"""`make -s env`: the demo's URLs and client secrets as assignments a shell can eval."""

from __future__ import annotations

import subprocess

import pytest

from workshop import shell_variables

NAMES = (
    "IDP", "WEB", "SRC", "TGT", "WEB_APP_CLIENT_SECRET", "SOURCE_API_CLIENT_SECRET", "MANAGEMENT_CLIENT_SECRET",
    "OPERATOR_SECRET",
)  # fmt: skip


@pytest.fixture(autouse=True)
def no_demo_settings_in_the_environment(monkeypatch):
    for name in ("OIDC_ISSUER", "WEB_APP_BASE_URL", "WEB_APP_SOURCE_API_URL", "SOURCE_API_TARGET_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("WEB_APP_CLIENT_SECRET", "SOURCE_API_CLIENT_SECRET", "WEB_APP_MANAGEMENT_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    # Set, so that no test makes the file `make up` keeps it in.
    monkeypatch.setenv("OPERATOR_SECRET", "operator-secret-of-the-test")


def evaluated(printed: str) -> dict[str, str]:
    """What bash holds after ``eval "$printed"``."""
    show = 'eval "$1"; shift; for name in "$@"; do printf "%s=%s\\0" "$name" "${!name}"; done'
    done = subprocess.run(
        ["bash", "-c", show, "bash", printed, *NAMES], capture_output=True, text=True, timeout=30, check=True
    )
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if item)


def test_the_defaults_are_make_ups(tmp_path, capsys):
    assert shell_variables.main(["--env-file", str(tmp_path / "none")]) == 0

    assert evaluated(capsys.readouterr().out) == {
        "IDP": "http://localhost:9000",
        "WEB": "http://localhost:3000",
        "SRC": "http://localhost:3001",
        "TGT": "http://localhost:3002",
        "WEB_APP_CLIENT_SECRET": "web-app-secret",
        "SOURCE_API_CLIENT_SECRET": "source-api-secret",
        "MANAGEMENT_CLIENT_SECRET": "management-secret",
        "OPERATOR_SECRET": "operator-secret-of-the-test",
    }


def test_a_stack_moved_by_env_is_followed_and_odd_values_survive_the_shell(tmp_path, capsys, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "OIDC_ISSUER=http://localhost:19000/\n"
        "WEB_APP_BASE_URL=http://localhost:4000/\n"
        "SOURCE_API_CLIENT_SECRET='say \"hi\" $HOME; `rm -rf x`'\n"
    )
    monkeypatch.setenv("SOURCE_API_TARGET_URL", "http://localhost:14002")

    assert shell_variables.main(["--env-file", str(env_file)]) == 0
    values = evaluated(capsys.readouterr().out)

    assert values["IDP"] == "http://localhost:19000"
    assert values["WEB"] == "http://localhost:4000"
    assert values["TGT"] == "http://localhost:14002"  # the environment wins, as for the services
    assert values["SOURCE_API_CLIENT_SECRET"] == 'say "hi" $HOME; `rm -rf x`'


def test_the_assignments_are_not_exported(tmp_path, capsys):
    shell_variables.main(["--env-file", str(tmp_path / "none")])
    assert all(line.split("=", 1)[0] in NAMES for line in capsys.readouterr().out.splitlines())


def test_a_bad_port_is_one_clear_line(tmp_path, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text("WEB_APP_PORT=http\n")

    assert shell_variables.main(["--env-file", str(env_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "make env: WEB_APP_PORT=http is not a port number\n"
