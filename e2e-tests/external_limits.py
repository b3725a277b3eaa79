"""Before a run against a stack this suite did not start (E2E_EXTERNAL): are its limits
high enough for the suite?

The suite logs alice and bob in, exchanges and refreshes far more often in a minute than
a person. A stack started with the defaults answers most of those requests 429, and the
run would fail a hundred tests for one cause; this check names the cause once instead.
"""

from __future__ import annotations

import requests
from demo_tenant import TIMEOUT
from tenant_admin import Management

# Per window (60 s by default): the suite's busiest minute stays well below this.
NEEDED = 10_000
START_COMMAND = "EXCHANGE_RATE_LIMIT=100000 REFRESH_RATE_LIMIT=100000 SOURCE_API_USER_EXCHANGE_LIMIT=100000 make up"


def too_low(stack) -> list[str]:
    """One line per limit of ``stack`` below NEEDED, naming the setting that raises it."""
    problems = []
    try:
        tenant = Management(stack).get("/tenants/settings")
    except requests.ConnectionError:
        return [f"nothing answers at {stack['mock-idp'].url}: start the stack first"]
    for name, variable in (("token_exchange", "EXCHANGE_RATE_LIMIT"), ("refresh_token", "REFRESH_RATE_LIMIT")):
        limit = tenant["rate_limits"][name]["limit"]
        if limit < NEEDED:
            problems.append(f"the identity provider allows {limit} {name} requests a window ({variable})")
    secret = stack.operator_secret  # the environment's, else the one `make up` made
    answer = requests.get(
        stack["source-api"].url + "/operator/limits", headers={"Authorization": f"Bearer {secret}"}, timeout=TIMEOUT
    )
    if answer.status_code != 200:
        problems.append(
            f"the Source API's per-user exchange budget cannot be read (GET /operator/limits: {answer.status_code});"
            " DEMO_TOOLS must be on and OPERATOR_SECRET the stack's"
        )
    elif answer.json()["user_exchange_limit"] < NEEDED:
        limit = answer.json()["user_exchange_limit"]
        problems.append(f"the Source API allows {limit} exchanges a user a window (SOURCE_API_USER_EXCHANGE_LIMIT)")
    return problems


def message(stack, problems: list[str]) -> str:
    return (
        f"E2E_EXTERNAL: the stack at {stack['web-app'].url} has limits too low for this suite, which would "
        f"fail with 429: {'; '.join(problems)}. Start it with `{START_COMMAND}`, then run `E2E_EXTERNAL=1 make e2e`."
    )
