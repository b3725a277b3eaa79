"""How many token exchanges one user may make the Source API do, per window of seconds.

The identity provider limits exchanges per client (the tenant's
``rate_limits.token_exchange``): the Source API is one client, so one user logging in
again and again, each fresh token exchanged once, could spend that budget and leave every
other user of the Source API without exchanges until the window ends. This budget,
keyed by the validated token's ``sub``, stops that user here first (docs/security.md).

Only real exchanges are counted: ``TargetTokens`` spends from the budget when no cached
Target API token can be used, after single flight, so a cache hit or a wait for another
request's exchange costs nothing.

With the token cache in Redis the budget is counted there too (``SharedExchangeBudget``),
so N replicas do not give a user N budgets; while Redis fails, each replica counts alone.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
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
                raise _spent(self.limit, self.window, times[0] + self.window - now)
            times.append(now)
            while len(self._spent) > self.max_users:
                self._spent.popitem(last=False)


class SharedExchangeBudget:
    """The same sliding window, in a Redis sorted set per user: every replica counts into it.

    Each exchange adds itself first, then counts the window's exchanges: over the limit, it
    takes itself out again and is refused. Adding before counting, in one transaction,
    keeps simultaneous replicas from each seeing room for one more (at worst both are
    refused, never both let through).
    """

    PREFIX = "source-api:exchange-budget:"

    def __init__(self, link, limit: int, window: float, clock=time.time):
        self.link = link  # redis_token_cache.RedisLink
        self.limit = limit
        self.window = window
        self.clock = clock
        # Counts while Redis does not answer.
        self.local = ExchangeBudget(limit, window, clock)

    def spend(self, user: str) -> None:
        now = self.clock()
        name = self.PREFIX + hashlib.sha256(user.encode()).hexdigest()
        member = f"{now:.6f}:{uuid.uuid4().hex}"

        def count(r) -> tuple[int, float]:
            with r.pipeline(transaction=True) as pipe:
                pipe.zadd(name, {member: now})
                pipe.zremrangebyscore(name, "-inf", now - self.window)
                pipe.zcard(name)
                pipe.zrange(name, 0, 0, withscores=True)
                pipe.pexpire(name, int(self.window * 1000))
                _, _, spent, oldest, _ = pipe.execute()
            if spent > self.limit:
                r.zrem(name, member)
            return spent, oldest[0][1] if oldest else now

        counted = self.link.attempt("budget", count, None)
        if counted is None:
            self.local.spend(user)
            return
        spent, oldest = counted
        if spent > self.limit:
            raise _spent(self.limit, self.window, oldest + self.window - now)


def budget_for(settings, cache, clock=time.time):
    """The budget that goes with the token cache: shared in Redis, else this process's."""
    link = getattr(cache, "link", None)
    if link is not None:
        return SharedExchangeBudget(link, settings.user_exchange_limit, settings.user_exchange_window, clock)
    return ExchangeBudget(settings.user_exchange_limit, settings.user_exchange_window, clock)


def _spent(limit: int, window: float, wait: float) -> ExchangeBudgetSpent:
    retry_after = max(math.ceil(wait), 1)
    return ExchangeBudgetSpent(
        f"This user made {limit} token exchanges in {window:g} seconds; try again in {retry_after} seconds",
        step=3,
        upstream="source-api",
        retry_after=retry_after,
    )
