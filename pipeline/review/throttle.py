"""Wrong passwords, throttled: per client and over all clients (HTTP 429 with a wait).

A clerk who mistypes needs a few tries; a program guessing needs thousands. So each
client (its IP address, as the socket gives it: the review server is not behind a proxy)
may get the password wrong `per_client` times within `window` seconds, and all clients
together `overall` times (a guesser spread over many addresses). Past either limit,
every password attempt is refused without being checked until the oldest counted failure
leaves the window; the wait is sent as `Retry-After`. A right password clears that
client's failures. Sessions already logged in are not affected.

State is in memory, per app (a restart forgets it, and the server's random session key
already logs everyone out then). The number of clients remembered is bounded: past
`max_clients`, the overall limit alone holds the guessers back.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# A clerk mistyping gets 5 tries in 5 minutes; an office of a dozen clerks rarely mistypes
# 30 times in 5 minutes. A guesser gets about 8,600 tries a day over all addresses, which
# against an 8+ character password (the minimum beyond loopback) is no attack.
PER_CLIENT = 5
OVERALL = 30
WINDOW_SECONDS = 300.0
MAX_CLIENTS = 10_000


@dataclass
class LoginThrottle:
    """Counts wrong passwords in a sliding window; thread-safe."""

    per_client: int = PER_CLIENT
    overall: int = OVERALL
    window: float = WINDOW_SECONDS
    max_clients: int = MAX_CLIENTS
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)
    _all: deque[float] = field(default_factory=deque, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _reported: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def _forget_old(self, now: float) -> None:
        cutoff = now - self.window
        while self._all and self._all[0] <= cutoff:
            self._all.popleft()
        for client in [c for c, times in self._clients.items() if not times or times[-1] <= cutoff]:
            del self._clients[client]
        for times in self._clients.values():
            while times and times[0] <= cutoff:
                times.popleft()

    def wait(self, client: str) -> int:
        """Seconds `client` must wait before a password is checked again (0: go ahead)."""
        with self._lock:
            now = self.clock()
            self._forget_old(now)
            until = 0.0
            mine = self._clients.get(client)
            if mine is not None and len(mine) >= self.per_client:
                until = max(until, mine[len(mine) - self.per_client] + self.window)
            if len(self._all) >= self.overall:
                until = max(until, self._all[len(self._all) - self.overall] + self.window)
            return max(0, math.ceil(until - now)) if until else 0

    def failed(self, client: str) -> int:
        """Count a wrong password from `client`; returns its failures in the window."""
        with self._lock:
            now = self.clock()
            self._forget_old(now)
            self._all.append(now)
            mine = self._clients.get(client)
            if mine is None:
                if len(self._clients) >= self.max_clients:
                    return 1
                mine = self._clients[client] = deque()
            mine.append(now)
            return len(mine)

    def report_refusal(self, client: str) -> bool:
        """True the first time `client` is refused in a window: log that one, not each of
        a guesser's thousands of refused tries (the log would drown)."""
        with self._lock:
            now = self.clock()
            for old in [c for c, t in self._reported.items() if t <= now - self.window]:
                del self._reported[old]
            if client in self._reported or len(self._reported) >= self.max_clients:
                return False
            self._reported[client] = now
            return True

    def succeeded(self, client: str) -> None:
        """A right password: `client`'s own failures are forgotten."""
        with self._lock:
            self._clients.pop(client, None)
