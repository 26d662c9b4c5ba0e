"""Benchmark: the review server under a bounded load, on 127.0.0.1 only.

A scanned box (the review tests' box: mot-cua sheets with overvotes, comments to
transcribe, a duplicate and an unreadable page) is served by `phieu review` as a
subprocess (waitress, as in production) with a password. Then, for `--seconds`:

- `--clerks` clerks, each logged in with the right password before the guessers start,
  loop over their share of the question items: open the queue (`GET /`), open the item
  (`GET /item/ID`, which claims it), decide it (`POST /item/ID/decide`, no answer /
  invalid in turn, on the version the page showed). When their share is done they go
  round again (each pass is a new decision on every item);
- `--guessers` clients post wrong passwords to `/login` as fast as they are answered.

Every loop stops by itself: after `--seconds`, or after `--max-requests` requests of
that client, whichever comes first. Nothing listens beyond 127.0.0.1.

What it reports: decisions the clerks saw accepted (302) against the decisions in the
store (all recorded: equal); the guessers' answers (401: the password was checked and
wrong; 429: refused unchecked, throttled) and how many passwords were checked at all;
latency (median, p95, max) of the queue page, the item page and the decision POST.

The guessers and clerks all come from 127.0.0.1, so they share the per-client limit: the
clerks log in first, and their sessions are not affected by the throttle.

Usage:
    .venv/bin/python benchmarks/review_load.py [--clerks 4] [--guessers 20] [--seconds 60]
        [--max-requests 5000] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import http.client
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHIEU = Path(sys.executable).parent / "phieu"
sys.path[:0] = [str(REPO), str(REPO / "tests")]

PASSWORD = "mat-khau-ban-kiem-tra"
HOST = "127.0.0.1"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')


@dataclass
class Browser:
    """One client with its own cookie, on its own keep-alive connection."""

    port: int
    cookie: str = ""
    conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                ) -> tuple[int, str, dict[str, str]]:
        from urllib.parse import urlencode

        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        headers = {"Accept": "text/html"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = None
            raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("phieu_review="):
                self.cookie = value.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, text, {k.lower(): v for k, v in response.getheaders()}

    def token(self, path: str = "/login") -> str:
        _, page, _ = self.request("GET", path)
        match = _CSRF.search(page)
        return match.group(1) if match else ""


@dataclass
class Tally:
    """Everything the clients saw, shared by the threads (under a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    decided: int = 0
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(f"[{time.monotonic() - self.started:.1f} s] {text}")

    def record(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latency.setdefault(kind, []).append(seconds)
            counts = self.statuses.setdefault(kind, {})
            counts[status] = counts.get(status, 0) + 1


def timed(tally: Tally, kind: str, browser: Browser, method: str, path: str,
          form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    start = time.perf_counter()
    status, text, headers = browser.request(method, path, form)
    tally.record(kind, time.perf_counter() - start, status)
    return status, text, headers


def clerk(port: int, name: str, items: list[int], deadline: Callable[[], float],
          max_requests: int, tally: Tally, ready: threading.Barrier) -> None:
    browser = Browser(port)
    status, _, _ = browser.request("POST", "/login",
                                   {"password": PASSWORD, "csrf": browser.token()})
    token = browser.token("/name")
    browser.request("POST", "/name", {"reviewer": name, "csrf": token})
    if status != 302:
        tally.error(f"{name}: login answered {status}")
    ready.wait()
    requests, turn = 0, 0
    while time.monotonic() < deadline() and requests < max_requests and items:
        flag_id = items[turn % len(items)]
        action = ("no_answer", "invalid")[(turn // len(items)) % 2]
        turn += 1
        try:
            timed(tally, "queue", browser, "GET", "/")
            status, page, _ = timed(tally, "item", browser, "GET", f"/item/{flag_id}")
            version = _VERSION.search(page)
            if status != 200 or 'id="taken"' in page or version is None:
                tally.error(f"{name}: item {flag_id} answered {status}")
                requests += 2
                continue
            status, _, _ = timed(tally, "decide", browser, "POST", f"/item/{flag_id}/decide",
                                 {"action": action, "version": version.group(1), "csrf": token})
            requests += 3
            if status == 302:
                with tally.lock:
                    tally.decided += 1
            else:
                tally.error(f"{name}: decision on {flag_id} answered {status}")
        except (http.client.HTTPException, OSError) as err:
            tally.error(f"{name}: {type(err).__name__}: {err}")
            requests += 1


def guesser(port: int, number: int, deadline: Callable[[], float], max_requests: int,
            tally: Tally, ready: threading.Barrier) -> None:
    browser = Browser(port)
    token = browser.token()
    ready.wait()
    requests = 0
    while time.monotonic() < deadline() and requests < max_requests:
        try:
            status, _, headers = timed(tally, "login_wrong", browser, "POST", "/login",
                                       {"password": f"doan-{number}-{requests}", "csrf": token})
        except (http.client.HTTPException, OSError) as err:
            tally.error(f"guesser {number}: {type(err).__name__}: {err}")
            status, headers = 0, {}
        requests += 1
        if status == 429 and not headers.get("retry-after", "").isdigit():
            tally.error(f"guesser {number}: 429 without a Retry-After in seconds")


def build_workspace(root: Path) -> Path:
    """A fresh copy of the scanned box; the box is built once under `root` and reused."""
    from review_support import build_box, copy_workspace  # type: ignore[import-not-found]

    built = next(iter(sorted((root / "built").glob("seed-*/ws"))), None)
    if built is None:
        built = build_box(root / "built")
    return copy_workspace(built, Path(tempfile.mkdtemp(prefix="run-", dir=root)) / "ws")


def question_items(workspace: Path) -> list[int]:
    from pipeline.store.database import open_store
    from pipeline.store.queue import open_items
    from pipeline.store.survey import load_survey

    store = open_store(load_survey(workspace).store_url)
    with store.engine.connect() as conn:
        ids = [e.flag_id for e in open_items(conn) if e.subject.startswith("q:")]
    store.engine.dispose()
    return [i for i in ids if i is not None]


def decisions_in_store(workspace: Path) -> int:
    import sqlalchemy as sa

    from pipeline.review import tables
    from pipeline.store.database import open_store
    from pipeline.store.survey import load_survey

    store = open_store(load_survey(workspace).store_url)
    with store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(tables.decisions)).scalar_one()
    store.engine.dispose()
    return int(n)


def start_server(workspace: Path, log: Path) -> tuple[subprocess.Popen, int]:
    # The server's log goes to a file: a pipe nobody reads fills up (64 kB) and then
    # blocks every thread of the server that logs (waitress logs each queued request).
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [str(PHIEU), "review", "--host", HOST, "--port", "0", "--no-browser",
             "--password", PASSWORD, "--survey", str(workspace)],
            stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        raise SystemExit(f"the review server did not start: {line!r} {log.read_text()}")
    return proc, int(match.group(1))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clerks", type=int, default=4)
    parser.add_argument("--guessers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=5000,
                        help="per client: its loop stops after this many requests")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "phieu-review-load",
                        help="where the box is built once (and reused) and each run's copy goes")
    parser.add_argument("--server-log", action="store_true", help="print the server's log")
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    workspace = build_workspace(args.workdir)
    items = question_items(workspace)
    before = decisions_in_store(workspace)
    log = workspace.parent / "server.log"
    server, port = start_server(workspace, log)
    tally = Tally()
    try:
        ready = threading.Barrier(args.clerks + args.guessers + 1)
        # The deadline is set once every client is ready (the clerks logged in); the loops
        # read it on every turn. Until then it is a bound, not a wait.
        stop = {"at": time.monotonic() + args.seconds + 600}
        shares = [items[i::args.clerks] for i in range(args.clerks)]
        threads = [threading.Thread(target=clerk, args=(port, f"Thư ký {i + 1}", shares[i],
                                                        lambda: stop["at"], args.max_requests,
                                                        tally, ready))
                   for i in range(args.clerks)]
        threads += [threading.Thread(target=guesser, args=(port, i, lambda: stop["at"],
                                                           args.max_requests, tally, ready))
                    for i in range(args.guessers)]
        for t in threads:
            t.start()
        ready.wait()
        tally.started = time.monotonic()
        stop["at"] = tally.started + args.seconds
        started = time.monotonic()
        for t in threads:
            t.join(timeout=args.seconds + 120)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    server_err = log.read_text()
    after = decisions_in_store(workspace)
    logged = sum("wrong password from" in line for line in server_err.splitlines())
    refused_logged = sum("refused for" in line for line in server_err.splitlines())

    print(f"review load: {args.clerks} clerks, {args.guessers} guessers, {elapsed:.0f} s, "
          f"{len(items)} question items, workspace {workspace}")
    print(f"decisions: clerks saw {tally.decided} accepted, store has {after - before} new "
          f"({'all recorded' if after - before == tally.decided else 'MISMATCH'})")
    wrong = tally.statuses.get("login_wrong", {})
    print(f"wrong passwords: {sum(wrong.values())} tries; 401 (checked) {wrong.get(401, 0)}, "
          f"429 (throttled, unchecked) {wrong.get(429, 0)}, other "
          f"{sum(n for s, n in wrong.items() if s not in (401, 429))}; server log: {logged} "
          f"wrong-password lines, {refused_logged} refusals")
    for kind in ("queue", "item", "decide", "login_wrong"):
        values = tally.latency.get(kind, [])
        if values:
            print(f"  {kind:12s} n={len(values):6d}  median {statistics.median(values) * 1000:7.1f} ms  "
                  f"p95 {percentile(values, 0.95) * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms  "
                  f"statuses {dict(sorted(tally.statuses[kind].items()))}")
    if tally.errors:
        print(f"errors ({len(tally.errors)}): " + "; ".join(tally.errors[:10]))
    queued = sum("Task queue depth" in line for line in server_err.splitlines())
    print(f"server log {log}: {queued} waitress 'Task queue depth' warnings (requests waiting "
          "for one of its threads)")
    if args.server_log:
        print(server_err)
    return 0 if after - before == tally.decided else 1


if __name__ == "__main__":
    raise SystemExit(main())
