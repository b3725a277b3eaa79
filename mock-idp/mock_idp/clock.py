"""The one source of "now" for the service, so tests can move time forward."""

import time


def now() -> int:
    return int(time.time())
