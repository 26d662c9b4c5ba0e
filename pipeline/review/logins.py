"""Logins the server knows: a session cookie only counts while its login is live here.

The session is a signed cookie kept by the browser, so clearing it at logout does not
stop a copy of the old cookie from working. Each login therefore gets a random id kept
in memory by the app; logout ends it, and a cookie whose login id is not live is not
logged in. Logins also end after `lifetime` seconds (a working day) and when the
server stops.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

LIFETIME_SECONDS = 12 * 3600


@dataclass
class LiveLogins:
    """The live login ids and when each ends; thread-safe."""

    lifetime: float = LIFETIME_SECONDS
    clock: Callable[[], float] = time.monotonic
    _ends: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def start(self) -> str:
        """A new live login id."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self.clock()
            for old in [t for t, end in self._ends.items() if end <= now]:
                del self._ends[old]
            self._ends[token] = now + self.lifetime
        return token

    def alive(self, token: object) -> bool:
        with self._lock:
            end = self._ends.get(token) if isinstance(token, str) else None
            return end is not None and end > self.clock()

    def end(self, token: object) -> None:
        if isinstance(token, str):
            with self._lock:
                self._ends.pop(token, None)
