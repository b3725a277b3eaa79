"""How many token exchanges one user may make the Source API do, per window of seconds.

The identity provider limits exchanges per client (the tenant's
``rate_limits.token_exchange``): the Source API is one client, so one user logging in
again and again, each fresh token exchanged once, could spend that budget and leave every
other user of the Source API without exchanges until the window ends. This budget,
keyed by the validated token's ``sub``, stops that user here first (docs/security.md).

Only real exchanges are counted: ``TargetTokens`` spends from the budget when no cached
Target API token can be used, after single flight, so a cache hit or a wait for another
request's exchange costs nothing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque

from .problems import Problem

#: users remembered at most; the least recently seen are forgotten first
MAX_USERS = 10_000


class ExchangeBudgetSpent(Problem):
    """The user made too many exchanges in the window: 429, Retry-After, problem+json."""

    status = 429
    title = "Too many token exchanges for this user"


class ExchangeBudget:
    """A sliding window of exchange times per user."""

    def __init__(self, limit: int, window: float, clock=time.time, max_users: int = MAX_USERS):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_users = max_users
        self._spent: OrderedDict[str, deque[float]] = OrderedDict()
        self._guard = threading.Lock()

    def spend(self, user: str) -> None:
        """Count one exchange for ``user``, or raise ``ExchangeBudgetSpent`` (nothing counted)."""
        now = self.clock()
        with self._guard:
            times = self._spent.setdefault(user, deque())
            self._spent.move_to_end(user)
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                retry_after = max(math.ceil(times[0] + self.window - now), 1)
                raise ExchangeBudgetSpent(
                    f"This user made {self.limit} token exchanges in {self.window:g} seconds; "
                    f"try again in {retry_after} seconds",
                    step=3,
                    upstream="source-api",
                    retry_after=retry_after,
                )
            times.append(now)
            while len(self._spent) > self.max_users:
                self._spent.popitem(last=False)
