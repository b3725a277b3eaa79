"""Every troubleshooting entry's reproduction, pasted into a terminal as a person would.

Each case of docs/troubleshooting.md (as its one parser,
obo_common.troubleshooting_guide, reads it) ends with a ``**Reproduce:**`` paragraph:
one ```sh block, then one ``<!-- expect: TEXT -->`` comment per piece of the answer that
shows the case. The blocks name every URL and client secret by the variables
`eval "$(make -s env)"` sets ($IDP, $WEB, ..., $WEB_APP_CLIENT_SECRET, ...), never
literally. Here each block runs with ``bash -euo pipefail`` from the repository root,
after that `eval`, in a terminal pointed at this suite's stack, whose ports are never
`make up`'s (``terminal_tools.tool_environment``): so a block that still named a default
port or secret would fail. Every TEXT, its variables set the same way, must be in the
output, white space aside, and the tenant must be as the block found it (in its file's
state: ``tenant_as_found``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess

import pytest
from conftest import ROOT
from tenant_admin import Management, tenant_state
from terminal_tools import tool_environment

from local_stack import demo_settings
from obo_common.troubleshooting_guide import parse
from workshop.shell_variables import variables as shell_variables_of

GUIDE = ROOT / "docs" / "troubleshooting.md"
CASES = sorted(entry.case for entry in parse(GUIDE.read_text(encoding="utf-8")))
STOPS_A_SERVICE = {"T31", "T32"}  # `make stop` / `make start`: run against a local `make up`
TIMEOUT = 120  # seconds for one block: a few logins and a dozen requests
REPRODUCE = re.compile(
    r"^\*\*Reproduce:\*\* .+?\n\n```sh\n(?P<block>.*?)^```\n(?P<expects>(?:<!-- expect: .+? -->\n)+)", re.M | re.S
)
EXPECT = re.compile(r"<!-- expect: (.+?) -->")
LITERAL_URL = re.compile(r"https?://(localhost|127\.0\.0\.1|\[::1\])[:/]")
SHELL_ENV = 'eval "$(make -s env)"'
VARIABLE = re.compile(r"\$([A-Z_]+)")
# A Management API call that changes what the reset puts back (not keys, not consents).
CHANGES_TENANT = re.compile(
    r"-X (PATCH|POST|DELETE) \$IDP/api/v2/"
    r"(clients|resource-servers|api-pairings|rules|tenants/settings(?!/reset))"
)
RESET = "-X POST $IDP/api/v2/tenants/settings/reset"
# Set by a make above this process (`make e2e`); a terminal has none of them.
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


@functools.cache
def reproductions() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each case's block and expectations, as the guide writes them."""
    found = {}
    for entry in parse(GUIDE.read_text(encoding="utf-8")):
        match = REPRODUCE.search(entry.text)
        if match:
            found[entry.case] = (match["block"], tuple(EXPECT.findall(match["expects"])))
    return found


def shell_variables(env: dict[str, str]) -> dict[str, str]:
    """What `eval "$(make -s env)"` sets in a terminal with ``env``, as that terminal sees it."""
    done = subprocess.run(
        ["make", "-s", "env"], cwd=ROOT, env=terminal(env), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"make -s env failed:\n{done.stdout}\n{done.stderr}"
    names = [line.split("=", 1)[0] for line in done.stdout.splitlines()]
    show = 'for name in "$@"; do printf "%s=%s\\0" "$name" "${!name}"; done'
    printed = subprocess.run(
        ["bash", "-c", f"{done.stdout}\n{show}", "bash", *names], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return dict(item.split("=", 1) for item in printed.split("\0") if "=" in item)


def expanded(variables: dict[str, str], text: str) -> str:
    """``text`` with the variables of `make -s env` replaced by their values."""
    return VARIABLE.sub(lambda match: variables.get(match.group(1), match.group(0)), text)


def flat(text: str) -> str:
    return " ".join(text.split())


def commands(block: str) -> list[str]:
    """The block's commands, each continued line joined to its first, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def terminal(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in MAKE_VARIABLES}


def run_block(env: dict[str, str], block: str) -> subprocess.CompletedProcess:
    """The block in bash, pasted after `eval "$(make -s env)"`; on a timeout its whole
    process group is killed."""
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", f"{SHELL_ENV}\n{block}"],
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


def test_the_guide_says_how_to_set_the_variables():
    assert SHELL_ENV in GUIDE.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_each_block_names_urls_and_secrets_by_variable_and_puts_the_tenant_back(case):
    assert case in reproductions(), f"{case} has no **Reproduce:** block"
    block, _ = reproductions()[case]
    assert not LITERAL_URL.search(block), f"{case}: write $IDP, $WEB, $SRC or $TGT, not a URL"
    for name, value in shell_variables_of(demo_settings.load(env_file=None)).items():
        if name.endswith("_CLIENT_SECRET"):
            assert value not in block, f"{case}: write ${name}, not the secret"
    if any(CHANGES_TENANT.search(command) for command in commands(block)):
        assert RESET in commands(block)[-1], f"{case} changes the tenant: its last command must be the reset"
    assert all(int(seconds) <= 2 for seconds in re.findall(r"\bsleep (\d+)", block)), f"{case} sleeps too long"


# -- the blocks, run --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_the_reproduction_shows_the_case(stack, shell, tenant_as_found, request, case):
    assert case in reproductions(), f"{case} has no **Reproduce:** block"
    block, expects = reproductions()[case]
    # `make stop` talks to a running `make up`: the suite's own processes are not one.
    env = request.getfixturevalue("local_up").env if case in STOPS_A_SERVICE else tool_environment(stack)
    variables = shell_variables(env)
    if stack["mock-idp"].controllable:  # the suite's own stack (E2E_EXTERNAL may name make up's)
        assert variables["IDP"] != "http://localhost:9000", "the stack must not be on make up's ports"
    found = tenant_state(Management(stack))

    done = run_block(env, block)

    shown = f"--- output ---\n{done.stdout}\n--- errors ---\n{done.stderr}"
    assert done.returncode == 0, f"{case}: the block failed with exit code {done.returncode}\n{shown}"
    for expected in expects:
        assert flat(expanded(variables, expected)) in flat(done.stdout), f"{case}: {expected!r} is not in\n{shown}"
    # A new Management API token: the block may have rotated the key that signed the first.
    assert tenant_state(Management(stack)) == found, f"{case} left the tenant changed"
