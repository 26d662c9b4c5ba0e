"""Starting the review server: loopback by default, a password beyond it.

The server is waitress (a production WSGI server, pure Python): a bounded pool of
`THREADS` worker threads and at most `CONNECTIONS` open connections, no `Server:` header
(no version banner), request bodies bounded.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import socket
import threading
import webbrowser
from dataclasses import dataclass, field
from typing import Any

from waitress import create_server

from pipeline.review.app import create_app
from pipeline.review.errors import ReviewServerError
from pipeline.review.items import build_form_catalog
from pipeline.store.database import open_store
from pipeline.store.survey import Survey, load_survey_forms

PASSWORD_ENV = "PHIEU_REVIEW_PASSWORD"
# Host headers a loopback server answers to (DNS rebinding defence).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
MIN_PASSWORD = 8
# A handful of clerks, each request short (one SQLite or PostgreSQL transaction, one
# image): a few threads keep pages quick on a 2-core office PC while one image is
# cropped; more would only queue on the database's single writer.
THREADS = 4
CONNECTIONS = 100  # browsers keep a few connections each
MAX_BODY = 1024 * 1024  # the app refuses forms over 64 KiB itself (413 page)


def is_loopback(host: str) -> bool:
    """True when `host` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_password(host: str, password: str | None) -> str | None:
    """The password to require: None on loopback without one; raises
    `ReviewServerError` beyond loopback without a (long enough) password."""
    password = password or None
    if is_loopback(host):
        return password
    if password is None:
        raise ReviewServerError(
            f"Cần mật khẩu khi phục vụ ra mạng / --host {host} serves beyond this computer "
            "and needs a password",
            f"add --password or set {PASSWORD_ENV}",
        )
    if len(password) < MIN_PASSWORD:
        raise ReviewServerError(
            f"Mật khẩu quá ngắn / the password is shorter than {MIN_PASSWORD} characters",
            "choose a longer one",
        )
    return password


@dataclass(frozen=True)
class ReviewServer:
    """A started (not yet serving) review server and the address to open."""

    server: Any  # a waitress server
    url: str  # for a browser on this computer
    network_url: str | None = None  # for other computers, when served beyond loopback
    stopping: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def serve_forever(self) -> None:
        try:
            self.server.run()
        except OSError as err:
            # `shutdown` from another thread closes the sockets under the loop's select:
            # that is the stop asked for, not a failure.
            if not (self.stopping.is_set() and err.errno == errno.EBADF):
                raise

    def shutdown(self) -> None:
        """Stop serving (from another thread, or after Ctrl+C) and close every connection."""
        self.stopping.set()
        self.server.task_dispatcher.shutdown(timeout=5)
        for channel in list(self.server._map.values()):  # the listener, the trigger, clients
            channel.close()


def make_review_server(survey: Survey, *, host: str = "127.0.0.1", port: int = 8765,
                       password: str | None = None) -> ReviewServer:
    """Open the survey's store and bind the review app to `host`:`port` (0: any free
    port) under waitress. `password` defaults to $PHIEU_REVIEW_PASSWORD; beyond loopback it
    is required (`ReviewServerError` otherwise, or when the port is in use)."""
    password = check_password(host, password if password is not None else os.environ.get(PASSWORD_ENV))
    store = open_store(survey.store_url, create=False)
    catalog = build_form_catalog(load_survey_forms(survey))
    app = create_app(survey, store, catalog, password=password,
                     trusted_hosts=LOOPBACK_NAMES if is_loopback(host) else None)
    try:
        server = create_server(app, host=host.strip("[]"), port=port, threads=THREADS,
                               connection_limit=CONNECTIONS, max_request_body_size=MAX_BODY,
                               ident="", clear_untrusted_proxy_headers=True)
    except (OSError, socket.gaierror) as err:
        raise ReviewServerError(
            f"Không mở được cổng / cannot listen on {host}:{port}: {err.strerror or err}",
            "choose another --port, or stop the program using it",
        ) from err
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    network = None
    if not is_loopback(host):
        name = socket.gethostname() if host in ("0.0.0.0", "::") else shown
        network = f"http://{name}:{server.effective_port}/"
    return ReviewServer(server, f"http://{shown}:{server.effective_port}/", network)


def open_browser(url: str) -> bool:
    """Open `url` in the user's browser; False (never an error) where there is none."""
    try:
        return bool(webbrowser.open(url))
    except Exception:  # no display, no browser registered: the URL is printed anyway
        return False
