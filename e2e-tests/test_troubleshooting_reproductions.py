"""Every troubleshooting entry's reproduction, pasted into a terminal as a person would.

Each case of docs/troubleshooting.md (as its one parser,
obo_common.troubleshooting_guide, reads it) ends with a ``**Reproduce:**`` paragraph:
one ```sh block written for `make up`'s ports, then one ``<!-- expect: TEXT -->``
comment per piece of the answer that shows the case. Here each block runs with ``bash
-euo pipefail`` from the repository root against this suite's stack: the four `make up`
URLs in the block and in its expectations become the stack's, and the terminal tools it
calls (`make tokens`, `make code`) are pointed at the stack by
``terminal_tools.tool_environment``. Every TEXT must be in the output, white space
aside, and the tenant must be as the block found it (in its file's state:
``tenant_as_found``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess

import pytest
from conftest import MAKE_UP_PORTS, ROOT
from tenant_admin import Management, tenant_state
from terminal_tools import tool_environment

from obo_common.troubleshooting_guide import parse

GUIDE = ROOT / "docs" / "troubleshooting.md"
CASES = sorted(entry.case for entry in parse(GUIDE.read_text(encoding="utf-8")))
STOPS_A_SERVICE = {"T31", "T32"}  # `make stop` / `make start`: run against a local `make up`
TIMEOUT = 120  # seconds for one block: a few logins and a dozen requests
REPRODUCE = re.compile(
    r"^\*\*Reproduce:\*\* .+?\n\n```sh\n(?P<block>.*?)^```\n(?P<expects>(?:<!-- expect: .+? -->\n)+)", re.M | re.S
)
EXPECT = re.compile(r"<!-- expect: (.+?) -->")
MAKE_UP_URL = re.compile(r"http://localhost:(\d+)(?!\d)")
# A Management API call that changes what the reset puts back (not keys, not consents).
CHANGES_TENANT = re.compile(
    r"-X (PATCH|POST|DELETE) http://localhost:9000/api/v2/"
    r"(clients|resource-servers|api-pairings|rules|tenants/settings(?!/reset))"
)
RESET = "-X POST http://localhost:9000/api/v2/tenants/settings/reset"
# Set by a make above this process (`make e2e`); a terminal has none of them.
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


@functools.cache
def reproductions() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each case's block and expectations, as the guide writes them (`make up`'s URLs)."""
    found = {}
    for entry in parse(GUIDE.read_text(encoding="utf-8")):
        match = REPRODUCE.search(entry.text)
        if match:
            found[entry.case] = (match["block"], tuple(EXPECT.findall(match["expects"])))
    return found


def service_urls(stack) -> dict[str, str]:
    return {name: stack[name].url for name in MAKE_UP_PORTS}


def on_the_stack(urls: dict[str, str], text: str) -> str:
    """``text`` with `make up`'s URLs replaced by the stack's (``urls``, by service), in one
    pass, so that a URL put in is never replaced again."""
    by_port = {str(port): urls[name] for name, port in MAKE_UP_PORTS.items()}
    return MAKE_UP_URL.sub(lambda match: by_port.get(match.group(1), match.group(0)), text)


def flat(text: str) -> str:
    return " ".join(text.split())


def commands(block: str) -> list[str]:
    """The block's commands, each continued line joined to its first, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def terminal(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in MAKE_VARIABLES}


def run_block(urls: dict[str, str], env: dict[str, str], block: str) -> subprocess.CompletedProcess:
    """The block in bash, as pasted; on a timeout its whole process group is killed."""
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", on_the_stack(urls, block)],
        cwd=ROOT,
        env=terminal(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"the block did not end within {TIMEOUT}s\n--- output ---\n{stdout}\n--- errors ---\n{stderr}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def shell():
    """What the guide says the blocks need, and a virtual environment `make` will not rebuild."""
    missing = [tool for tool in ("bash", "curl", "make", "python3") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the reproductions need {', '.join(missing)}")
    # `make tokens` runs .venv/bin/python and depends on .venv/bin/.installed: were it
    # older than a requirements file, the first block would reinstall the suite's venv.
    up_to_date = subprocess.run(
        ["make", "-q", ".venv/bin/.installed"],
        cwd=ROOT,
        env=terminal(dict(os.environ)),
        capture_output=True,
        timeout=30,
        check=False,
    )
    if up_to_date.returncode != 0:
        pytest.fail("the virtual environment is older than the requirements: run `make .venv/bin/.installed`")


# -- the guide -------------------------------------------------------------------------------


def test_every_case_has_a_reproduction_and_what_to_expect():
    found = reproductions()
    missing = sorted(set(CASES) - set(found))
    assert not missing, f"no **Reproduce:** block followed by <!-- expect: ... --> lines: {missing}"


@pytest.mark.parametrize("case", CASES)
def test_each_block_uses_make_ups_urls_and_puts_the_tenant_back(case):
    assert case in reproductions(), f"{case} has no **Reproduce:** block"
    block, _ = reproductions()[case]
    ports = set(MAKE_UP_URL.findall(block))
    assert ports <= {str(port) for port in MAKE_UP_PORTS.values()}, f"{case}: ports `make up` does not use: {ports}"
    assert "127.0.0.1" not in block, f"{case}: write localhost, as `make up` prints it"
    if any(CHANGES_TENANT.search(command) for command in commands(block)):
        assert RESET in commands(block)[-1], f"{case} changes the tenant: its last command must be the reset"
    assert all(int(seconds) <= 2 for seconds in re.findall(r"\bsleep (\d+)", block)), f"{case} sleeps too long"


# -- the blocks, run --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_the_reproduction_shows_the_case(stack, shell, tenant_as_found, request, case):
    assert case in reproductions(), f"{case} has no **Reproduce:** block"
    block, expects = reproductions()[case]
    if case in STOPS_A_SERVICE:
        # `make stop` talks to a running `make up`: the suite's own processes are not one.
        up = request.getfixturevalue("local_up")
        urls, env = up.urls, up.env
    else:
        urls, env = service_urls(stack), tool_environment(stack)
    found = tenant_state(Management(stack))

    done = run_block(urls, env, block)

    shown = f"--- output ---\n{done.stdout}\n--- errors ---\n{done.stderr}"
    assert done.returncode == 0, f"{case}: the block failed with exit code {done.returncode}\n{shown}"
    for expected in expects:
        assert flat(on_the_stack(urls, expected)) in flat(done.stdout), f"{case}: {expected!r} is not in\n{shown}"
    # A new Management API token: the block may have rotated the key that signed the first.
    assert tenant_state(Management(stack)) == found, f"{case} left the tenant changed"
