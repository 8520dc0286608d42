"""Failed authentication from one client is slowed: a small token bucket per client address.

Each failed bearer token (or, later, password) costs the client's address a
token; the bucket refills at a steady rate. An empty bucket answers 429 with
`Retry-After` before the credentials are even looked at, so guessing tokens
goes no faster than the refill rate. Every failure is logged with the
address and the path — never with what was presented.

The client address is the peer's, unless the peer is a configured trusted
proxy: then the nearest address in `X-Forwarded-For` that is not a trusted
proxy itself. A client cannot choose its own address by sending the header.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field

from api.errors import Throttled

log = logging.getLogger("relief_ledger.auth")


@dataclass
class AuthThrottle:
    """Per-address buckets of `burst` failures, refilled at `per_minute` failures a minute."""

    burst: int = 10
    per_minute: float = 10.0
    trusted_proxies: frozenset[str] = frozenset()
    clock: object = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # address → (tokens, at)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        address = peer or "unknown"
        if address in self.trusted_proxies and forwarded_for:
            for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
                if hop not in self.trusted_proxies:
                    return hop
        return address

    def check(self, address: str) -> None:
        """Refuse (429) while the address has no tokens left."""
        with self._lock:
            tokens, _ = self._refilled(address)
        if tokens < 1:
            raise Throttled(max(1, math.ceil((1 - tokens) * 60 / self.per_minute)))

    def failed(self, address: str, path: str) -> None:
        with self._lock:
            tokens, now = self._refilled(address)
            self._buckets[address] = (tokens - 1, now)
            self._forget_full(now)
        log.warning("authentication failed from %s on %s (%d attempts left)", address, path, max(int(tokens - 1), 0))

    def _refilled(self, address: str) -> tuple[float, float]:
        now = self.clock()  # type: ignore[operator]
        tokens, at = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.per_minute / 60), now

    def _forget_full(self, now: float) -> None:
        """Keep memory bounded: addresses whose bucket has refilled are forgotten."""
        if len(self._buckets) > 10_000:
            full = [a for a, (t, at) in self._buckets.items()
                    if t + (now - at) * self.per_minute / 60 >= self.burst]
            for address in full:
                del self._buckets[address]
