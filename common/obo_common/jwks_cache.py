"""The identity provider's signing keys, cached.

Keys are fetched once and kept. A token naming an unknown ``kid`` (the provider rotated
its key) makes the cache fetch the JWKS again, at once. Made-up ``kid`` values cannot make
the API hammer the provider: a ``kid`` the fetch did not find is not looked for again for
``unknown_kid_interval`` seconds, and at most ``unknown_kid_fetches`` such fetches are
made in that interval. A real rotation is therefore seen at its first token even just
after a forged one. When the provider cannot be reached, keys already cached keep working.

How long a key the provider stopped publishing (retired by a rotation) is still trusted:
until the next fetch, which replaces the whole set. A fetch happens when a token names a
kid not cached (so the first token of a new key drops the retired ones at once), when the
set is older than ``max_age`` (``JWKS_MAX_AGE``, 300 s: the longest a retired key is
trusted, short enough that a key retired because it leaked stops working within minutes,
long enough that each API asks for the JWKS only every few minutes), and when the Source
API's exchange is refused for the key (``still_published``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from .idp_endpoints import IdentityProviderUnavailable, Timeout


class JWKSUnavailable(Exception):
    """The JWKS could not be fetched and the key is not cached."""


class JWKSCache:
    def __init__(
        self,
        jwks_uri: Callable[[], str],
        session: requests.Session,
        timeout: Timeout = (3.05, 5),
        unknown_kid_interval: float = 30.0,
        unknown_kid_fetches: int = 5,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._jwks_uri = jwks_uri
        self.session = session
        self.timeout = timeout
        self.unknown_kid_interval = unknown_kid_interval
        self.unknown_kid_fetches = unknown_kid_fetches
        self.max_age = max_age
        self.clock = clock
        self._keys: dict[str, RSAKey] = {}
        self._fetched_at: float | None = None
        self._misses: dict[str, float] = {}  # kid -> when a fetch last failed to find it
        self._unknown_kid_fetched: deque[float] = deque()  # when unknown kids caused fetches
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> RSAKey | None:
        """The key for ``kid``, or None if the provider does not publish it."""
        with self._lock:
            now = self.clock()
            stale = self._fetched_at is None or now - self._fetched_at > self.max_age
            if kid in self._keys and not stale:
                return self._keys[kid]
            if kid not in self._keys and not stale:
                if self._throttled(kid, now):
                    return None
                self._unknown_kid_fetched.append(now)
            try:
                self._fetch()
            except JWKSUnavailable:
                if kid in self._keys:
                    return self._keys[kid]  # keep serving what we know during an outage
                raise
            if kid not in self._keys:
                self._misses[kid] = now
            return self._keys.get(kid)

    def still_published(self, kid: str | None) -> bool:
        """Fetch the JWKS now and say whether it still has ``kid``. For a token this API
        accepted and the provider refused for its signature: its key was retired, and
        every token of it is refused from now on. A kid known to be retired costs no fetch."""
        with self._lock:
            if kid not in self._keys:
                return False
            try:
                self._fetch()
            except JWKSUnavailable:
                return True  # cannot tell: keep what we know
            return kid in self._keys

    def forget_misses(self) -> None:
        """Look for any kid again at its next token, at once: the operator brought keys back
        (the demo's keys reset publishes keys that were retired)."""
        with self._lock:
            self._misses.clear()
            self._unknown_kid_fetched.clear()

    def _throttled(self, kid: str, now: float) -> bool:
        window = self.unknown_kid_interval
        while self._unknown_kid_fetched and now - self._unknown_kid_fetched[0] >= window:
            self._unknown_kid_fetched.popleft()
        if len(self._misses) > 1000:  # forget old misses, so made-up kids cannot fill memory
            self._misses = {k: t for k, t in self._misses.items() if now - t < window}
        missed = self._misses.get(kid)
        recently_missed = missed is not None and now - missed < window
        return recently_missed or len(self._unknown_kid_fetched) >= self.unknown_kid_fetches

    def _fetch(self) -> None:
        try:
            url = self._jwks_uri()
            response = self.session.get(url, timeout=self.timeout)
            response.raise_for_status()
            key_set = KeySet.import_key_set(response.json())
        except (
            requests.RequestException,
            ValueError,
            JoseError,
            IdentityProviderUnavailable,
            KeyError,  # an answer that is JSON but not a key set
            TypeError,
            AttributeError,
        ) as error:
            raise JWKSUnavailable(f"the JWKS could not be fetched: {error}") from None
        self._keys = {key.kid: key for key in key_set.keys if isinstance(key, RSAKey) and key.kid}
        self._fetched_at = self.clock()
        self.fetches += 1
