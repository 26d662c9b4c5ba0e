"""The review server on an office network (issue 12): waitress with a bounded pool and no
version banner, wrong passwords throttled (429 + Retry-After) and logged, the session
renewed at login and ended at logout, 404 for ids of any size, Vietnamese error pages."""
from __future__ import annotations

import http.client
import logging
import socket
import threading

import pytest

from pipeline.review import create_app, make_review_server
from pipeline.review.throttle import LoginThrottle

try:
    from tests.review_support import built, csrf_token, ws  # noqa: F401  (fixtures)
except ImportError:  # tests/ itself on sys.path
    from review_support import built, csrf_token, ws  # noqa: F401

pytestmark = pytest.mark.slow  # a review server and many logins

PASSWORD = "mat-khau-dai"


def _app(ws, password=PASSWORD, throttle=None, secret_key=None):
    survey, store, catalog, _ = ws
    return create_app(survey, store, catalog, password=password, throttle=throttle,
                      secret_key=secret_key)


def _login(client, password, ip="10.0.0.5"):
    return client.post("/login", data={"password": password, "csrf": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": ip})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the throttle itself ---------------------------------------------------------------


def test_a_client_past_its_limit_waits_until_its_oldest_failure_leaves_the_window():
    clock = Clock()
    throttle = LoginThrottle(per_client=3, overall=100, window=60, clock=clock)
    for _ in range(3):
        assert throttle.wait("a") == 0
        throttle.failed("a")
        clock.now += 1
    assert throttle.wait("a") == 57  # now 1003; the first failure (at 1000) leaves at 1060
    assert throttle.wait("b") == 0  # another client is not held back by a's guesses
    clock.now = 1060.5
    assert throttle.wait("a") == 0


def test_all_clients_together_are_limited_and_a_right_password_clears_a_client():
    clock = Clock()
    throttle = LoginThrottle(per_client=3, overall=4, window=60, clock=clock)
    for client in ("a", "b", "c", "d"):
        throttle.failed(client)
    assert throttle.wait("e") == 60  # a guesser spread over many addresses
    clock.now += 61
    throttle.failed("a")
    throttle.failed("a")
    throttle.succeeded("a")
    throttle.failed("a")
    assert throttle.wait("a") == 0


# --- the app --------------------------------------------------------------------------


def test_wrong_passwords_are_throttled_per_client_with_retry_after_and_logged(ws, caplog):
    client = _app(ws, throttle=LoginThrottle(per_client=3, overall=50)).test_client()
    with caplog.at_level(logging.WARNING, logger="pipeline.review.app"):
        for _ in range(3):
            assert _login(client, "sai-roi-nhe").status_code == 401
        refused = _login(client, PASSWORD)  # even the right one is not checked now
        assert _login(client, "thu-lan-nua").status_code == 429
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    page = refused.get_data(as_text=True)
    assert page.index("Sai mật khẩu quá nhiều lần") < page.index("Too many wrong passwords")
    assert 'href="/"' in page
    assert sum("wrong password from 10.0.0.5" in r.getMessage() for r in caplog.records) == 3
    assert sum("refused" in r.getMessage() for r in caplog.records) == 1  # once, not per try
    other = _app(ws).test_client()
    assert _login(other, PASSWORD, ip="10.0.0.6").status_code == 302


def test_wrong_passwords_from_many_clients_are_throttled_overall(ws):
    app = _app(ws, throttle=LoginThrottle(per_client=5, overall=4))
    for i in range(4):
        assert _login(app.test_client(), "doan-mo", ip=f"10.0.1.{i}").status_code == 401
    assert _login(app.test_client(), "doan-mo", ip="10.0.1.99").status_code == 429


def test_a_bearer_password_guesser_is_throttled_too(ws):
    client = _app(ws, throttle=LoginThrottle(per_client=2, overall=50)).test_client()
    bearer = {"Authorization": "Bearer doan-thu", "Accept": "application/json"}
    codes = [client.get("/", headers=bearer, environ_base={"REMOTE_ADDR": "10.0.2.1"}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 429, 429]


def test_login_renews_the_session_id_and_csrf_token_and_logout_ends_the_login(ws):
    client = _app(ws).test_client()
    before = csrf_token(client)
    with client.session_transaction() as s:
        sid_before = s["sid"]
    assert _login(client, PASSWORD).status_code == 302
    with client.session_transaction() as s:
        assert s["sid"] != sid_before and s["csrf"] != before
        after = s["csrf"]
        kept = dict(s)  # a copy of the logged-in cookie
    assert client.get("/image/page/1.jpg").status_code == 200
    assert client.post("/logout", data={"csrf": after}).status_code == 302
    assert client.get("/image/page/1.jpg").status_code == 401
    with client.session_transaction() as s:
        s.update(kept)  # the old cookie, replayed
    assert client.get("/image/page/1.jpg").status_code == 401


def test_unknown_ids_of_any_size_are_404_with_a_vietnamese_page(ws):
    client = _app(ws, password=None).test_client()
    token = csrf_token(client)
    client.post("/name", data={"reviewer": "An", "csrf": token})
    for path in ("/item/99999999999999999999999999", "/item/2147483648", "/item/0",
                 "/item/123456", "/image/page/99999999999999999999999.jpg",
                 "/image/item/99999999999999999999", "/image/comment/99999999999999999999999.png"):
        response = client.get(path)
        assert response.status_code == 404, path
        page = response.get_data(as_text=True)
        assert "Không tìm thấy" in page and 'href="/"' in page, path
    for path in ("/item/123456/undo", "/item/99999999999999999999999/decide"):
        assert client.post(path, data={"csrf": token, "action": "no_answer"}).status_code == 404


def test_the_csrf_page_after_a_restart_says_what_happened_and_links_to_the_queue(ws):
    old = _app(ws, password=None, secret_key=b"a" * 32).test_client()
    token = csrf_token(old)
    restarted = _app(ws, password=None, secret_key=b"b" * 32)  # a new random key
    client = restarted.test_client()
    client.set_cookie("phieu_review", old.get_cookie("phieu_review").value)
    response = client.post("/name", data={"reviewer": "An", "csrf": token})
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert page.index("Trang đã cũ") < page.index("out of date") and 'href="/"' in page


def test_too_large_and_server_errors_are_vietnamese_pages(ws, monkeypatch):
    app = _app(ws, password=None)
    client = app.test_client()
    token = csrf_token(client)
    big = client.post("/name", data={"reviewer": "x" * 70_000, "csrf": token})
    assert big.status_code == 413 and "Nội dung quá lớn" in big.get_data(as_text=True)
    client.post("/name", data={"reviewer": "An", "csrf": token})

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("pipeline.review.app.open_items", broken)
    failed = client.get("/")
    assert failed.status_code == 500
    page = failed.get_data(as_text=True)
    assert "Lỗi máy chủ" in page and 'href="/"' in page and "database went away" not in page


# --- the real server ------------------------------------------------------------------


def _serve(survey, host):
    running = make_review_server(survey, host=host, port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    return running, thread


def _get(url_host: str, port: int, path: str = "/", host_header: str | None = None):
    conn = http.client.HTTPConnection(url_host, port, timeout=10)
    conn.request("GET", path, headers={"Host": host_header} if host_header else {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_the_server_is_waitress_with_a_bounded_pool_and_no_version_banner(ws):
    running, thread = _serve(ws[0], "127.0.0.1")
    try:
        assert running.server.adj.threads >= 1 and running.server.adj.connection_limit <= 1000
        response = _get("127.0.0.1", running.port)
        assert response.status == 302
        assert response.getheader("Server") is None and response.getheader("Via") is None
        assert _get("127.0.0.1", running.port, "/item/99999999999999999999999").status == 404
    finally:
        running.shutdown()
        thread.join(timeout=10)
    assert not thread.is_alive()


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_host_ipv6_loopback_answers_at_the_address_it_prints(ws):
    running, thread = _serve(ws[0], "::1")
    try:
        assert running.url == f"http://[::1]:{running.port}/"
        assert _get("::1", running.port).status == 302  # Host: [::1]:PORT, as a browser sends
        assert _get("::1", running.port, host_header=f"rebound.example:{running.port}").status == 400
    finally:
        running.shutdown()
        thread.join(timeout=10)
