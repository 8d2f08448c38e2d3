"""Questions per client per minute: the public door stays open without becoming a free resource.

Anonymous callers (the citizens' widget) are limited per client address; keyed callers per
key, with their own (larger) budget. Each client has a token bucket: ``per_minute`` tokens,
refilled continuously, so a burst up to the budget passes and a steady stream is held to the
rate. Beyond it: 429 ``rate_limited`` with ``Retry-After`` (whole seconds until a token is
back). The client's address is the peer's, unless the peer is a trusted proxy: then the
right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy (the left-most
entries are whatever the caller wrote and prove nothing).

Buckets live in memory, one process: behind several workers each holds its own (the budget
is per worker). At most ``MAX_CLIENTS`` are remembered; the least recently seen go first.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_CLIENTS = 100_000
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by client; ``take`` says whether a request may pass, else how long to wait."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_CLIENTS) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str) -> float:
        """0.0 if ``client`` may go ahead (a token is spent), else the seconds until it may."""
        now = self.clock()
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        self._buckets[client] = bucket  # most recently seen last
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


def retry_after(seconds: float) -> str:
    """``Retry-After`` in whole seconds, never 0 for a refusal."""
    return str(max(1, math.ceil(seconds)))


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.1", "192.168.0.0/16"]`` -> networks; a bad entry is a ValueError naming it."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The address a request is counted against (see the module docstring)."""
    if peer is None:
        return "unknown"
    if not trusted or not _is_in(peer, trusted) or not forwarded_for:
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _is_in(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_in(text: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in networks)


class RateLimited(Exception):
    """A client over its budget; ``service.ratelimit.install_rate_limits`` answers 429."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds
