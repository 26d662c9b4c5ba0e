"""The review web app (Flask): the queue, one item at a time, decisions, images.

Security (see README "Review"): every request needs the password when one is set (the
server sets one whenever it listens beyond loopback); every POST carries the session's
CSRF token; cookies are HttpOnly and SameSite=Strict; images are served by database id
and only from inside the survey's image folder; templates autoescape everything and the
script writes with `textContent` only; a strict Content-Security-Policy forbids inline
scripts.

Wrong passwords are throttled per client and overall (`throttle`: HTTP 429 with
Retry-After) and logged; a login renews the session id and the CSRF token, and logout
ends the login on the server too (`logins`: a copy of the old cookie is no longer
logged in). Errors are Vietnamese-first pages that link back to the queue.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.routing import IntegerConverter

from pipeline.review import i18n
from pipeline.review.capture import capture_blueprint
from pipeline.review.claims import CLAIM_SECONDS, active_claim, claim, claim_next, release
from pipeline.review.crops import item_crop, safe_image_path
from pipeline.review.decisions import check_reviewer, decide, undo
from pipeline.review.errorpages import error_page, register_error_pages
from pipeline.review.errors import ItemTaken, ReviewError, StaleDecision
from pipeline.review.items import FormCatalog, entry_for_flag, item_view
from pipeline.review.keying import KeyBlock, key_blocks, key_form, key_in, key_in_from_form
from pipeline.review.logins import LiveLogins
from pipeline.review.throttle import LoginThrottle
from pipeline.store import schema
from pipeline.store.database import Store
from pipeline.store.queue import QueueEntry, all_items, open_items, queue_counts
from pipeline.store.survey import Survey
from pipeline.store.vocabulary import AnswerStatus, FlagReason

logger = logging.getLogger(__name__)

# Endpoints reachable without the password: the login form and the stylesheet it uses.
PUBLIC_ENDPOINTS = frozenset({"login", "static"})


@dataclass(frozen=True)
class ReviewContext:
    """What every request needs: the survey, its store and forms, the password."""

    survey: Survey
    store: Store
    catalog: FormCatalog
    password: str | None
    claim_seconds: int = CLAIM_SECONDS
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    logins: LiveLogins = field(default_factory=LiveLogins)
    trusted_hosts: frozenset[str] | None = None  # host names the Host header may carry
    key_blocks: tuple[KeyBlock, ...] = ()  # the key-in form's pages (`keying.key_blocks`)


def _ctx() -> ReviewContext:
    ctx = current_app.extensions["phieu_review"]
    assert isinstance(ctx, ReviewContext)  # set by `create_app`
    return ctx


def _lang() -> str:
    lang = session.get("lang", "vi")
    return lang if lang in i18n.LANGUAGES else "vi"


def _safe_next(target: str | None) -> str:
    # Only local paths: an absolute or scheme-relative URL would make this an open redirect
    # (browsers drop tabs and newlines and read "\\" as "/", so those are refused too).
    if (target and target.startswith("/") and not target.startswith("//")
            and not any(c in target for c in "\\\t\r\n") and not urlsplit(target).netloc):
        return target
    return url_for("queue")


# --- request guards -------------------------------------------------------------------


def _client() -> str:
    return request.remote_addr or "?"


def _too_many(ctx: ReviewContext, wait: int) -> Response:
    if ctx.throttle.report_refusal(_client()):
        logger.warning("review: password attempts from %s refused for %d s (too many wrong "
                       "passwords; further refusals in the next %d s not logged)", _client(), wait,
                       int(ctx.throttle.window))
    response = error_page(429, wait)
    response.headers["Retry-After"] = str(wait)
    return response


def _password_ok(ctx: ReviewContext, given: str) -> bool:
    """Check `given` against the password, counting (and logging) a wrong one."""
    assert ctx.password is not None
    if hmac.compare_digest(given.encode(), ctx.password.encode()):
        ctx.throttle.succeeded(_client())
        return True
    failures = ctx.throttle.failed(_client())
    logger.warning("review: wrong password from %s (%d in the last %d s)", _client(), failures,
                   int(ctx.throttle.window))
    return False


def _authorised(ctx: ReviewContext) -> bool | Response:
    if ctx.password is None:
        return True
    if session.get("auth") is True and ctx.logins.alive(session.get("login")):
        return True
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        if wait := ctx.throttle.wait(_client()):
            return _too_many(ctx, wait)
        return _password_ok(ctx, header[7:])
    return False


def _host_name(header: str) -> str:
    """The host of a Host header without its port: `[::1]:8765` -> `[::1]`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1]
    return header.partition(":")[0]


def _before() -> Any:
    ctx = _ctx()
    # Checked here rather than by Flask's TRUSTED_HOSTS, which cannot match an IPv6
    # address (it cuts "[::1]" at its first colon), so `--host ::1` answered 400.
    if ctx.trusted_hosts is not None and _host_name(request.headers.get("Host", "")) not in ctx.trusted_hosts:
        abort(400)
    session.setdefault("sid", secrets.token_hex(16))
    session.setdefault("csrf", secrets.token_urlsafe(32))
    g.lang = _lang()
    if request.endpoint not in PUBLIC_ENDPOINTS:
        allowed = _authorised(ctx)
        if isinstance(allowed, Response):
            return allowed
        if not allowed:
            if request.method == "GET" and request.accept_mimetypes.accept_html:
                return redirect(url_for("login", next=request.full_path))
            abort(401)
    if request.method == "POST":
        sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
        if not hmac.compare_digest(sent.encode(), session["csrf"].encode()):
            abort(403, description="CSRF")
    return None


def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _needs_reviewer() -> Any:
    if not session.get("reviewer"):
        return redirect(url_for("name_form", next=request.full_path))
    return None


def _templating() -> dict[str, Any]:
    lang = g.get("lang", "vi")
    return {
        "t": lambda key: i18n.text(key, lang),
        "reason_label": lambda r: i18n.reason_label(r, lang),
        "action_label": lambda a: i18n.action_label(a, lang),
        "lang": lang,
        "csrf": session.get("csrf", ""),
        "reviewer": session.get("reviewer", ""),
        "needs_login": _ctx().password is not None,
        # templates compare with the store's words through these, never a spelt-out word
        "FlagReason": FlagReason,
        "AnswerStatus": AnswerStatus,
    }


# --- pages ----------------------------------------------------------------------------


def login() -> Any:
    ctx = _ctx()
    error = ""
    if request.method == "POST" and ctx.password is not None:
        if wait := ctx.throttle.wait(_client()):
            return _too_many(ctx, wait)
        if _password_ok(ctx, request.form.get("password", "")):
            _renew_session(ctx)
            return redirect(_safe_next(request.form.get("next")))
        error = i18n.text("wrong_password", g.lang)
    elif request.method == "POST":
        error = i18n.text("wrong_password", g.lang)
    return render_template("login.html", error=error, next=request.args.get("next", "/")), (
        401 if error else 200)


def _renew_session(ctx: ReviewContext) -> None:
    """A fresh session at login: new id, CSRF token and live login (only the language
    is kept), so an id or token seen before the login is worth nothing after it."""
    lang = session.get("lang")
    ctx.logins.end(session.get("login"))
    session.clear()
    if lang:
        session["lang"] = lang
    session["sid"] = secrets.token_hex(16)
    session["csrf"] = secrets.token_urlsafe(32)
    session["auth"] = True
    session["login"] = ctx.logins.start()


def logout() -> Any:
    ctx = _ctx()
    ctx.logins.end(session.get("login"))
    with ctx.store.engine.begin() as conn:
        release(conn, _holder())  # what this clerk held is free again
    session.clear()
    return redirect(url_for("login") if _ctx().password else url_for("queue"))


def name_form() -> Any:
    error = ""
    if request.method == "POST":
        try:
            session["reviewer"] = check_reviewer(request.form.get("reviewer", ""))
            return redirect(_safe_next(request.form.get("next")))
        except ReviewError as err:
            error = str(err)
    return render_template("name.html", error=error, next=request.args.get("next", "/"))


def set_language() -> Any:
    session["lang"] = "en" if _lang() == "vi" else "vi"
    return redirect(_safe_next(request.form.get("next")))


def queue() -> Any:
    if (to := _needs_reviewer()) is not None:
        return to
    ctx = _ctx()
    with ctx.store.engine.begin() as conn:
        release(conn, _holder())  # back at the queue: what this clerk held is free again
        counts = queue_counts(conn)
        items = open_items(conn)
        holders = _holders(conn, [e.subject for e in items])
    done = sum(c.total - c.open for c in counts)
    total = sum(c.total for c in counts)
    return render_template("queue.html", counts=counts, items=items[:200], more=len(items) - 200,
                           holders=holders, done=done, total=total, sid=session["sid"])


def _holders(conn: sa.Connection, subjects: list[str]) -> dict[str, str]:
    out = {}
    for subject in subjects:
        held = active_claim(conn, subject)
        if held is not None:
            out[subject] = held.reviewer
    return out


def next_item() -> Any:
    if (to := _needs_reviewer()) is not None:
        return to
    ctx = _ctx()
    reason = request.args.get("reason") or None
    after = request.args.get("after", type=int)
    entry = claim_next(ctx.store.engine, _holder(), session["reviewer"], reason, after)
    if entry is None:
        flash(i18n.text("nothing_left_reason" if reason else "nothing_left", g.lang), "info")
        return redirect(url_for("queue"))
    return redirect(url_for("item", flag_id=entry.flag_id, reason=reason or ""))


def _holder() -> str:
    return f"web:{session['sid']}"


def _neighbours(conn: sa.Connection, entry: QueueEntry, reason: str | None) -> tuple[int | None, int | None]:
    """(previous item in queue order, open or not; next open item after this one)."""
    everything = all_items(conn, reason)
    ids = [e.flag_id for e in everything]
    prev_id = next_id = None
    if entry.flag_id in ids:
        i = ids.index(entry.flag_id)
        prev_id = ids[i - 1] if i > 0 else None
        next_id = next((e.flag_id for e in everything[i + 1:] if e.open), None)
    return prev_id, next_id


def item(flag_id: int, error: str = "", status: int = 200) -> Any:
    if (to := _needs_reviewer()) is not None:
        return to
    ctx = _ctx()
    reason = request.values.get("reason") or None
    try:
        with ctx.store.engine.begin() as conn:
            entry = entry_for_flag_or_404(conn, flag_id)  # an unknown id is a 404, like an image's
            mine = claim(conn, entry.subject, _holder(), session["reviewer"], ctx.claim_seconds)
            if mine:
                release(conn, _holder(), keep=entry.subject)
            taken_by = None if mine else active_claim(conn, entry.subject)
            view = item_view(conn, ctx.catalog, flag_id)
            prev_id, next_id = _neighbours(conn, entry, reason)
    except ReviewError as err:
        flash(str(err), "error")
        return redirect(url_for("queue"))
    return render_template("item.html", v=view, taken_by=taken_by.reviewer if taken_by else None,
                           keying=None if taken_by else key_form(ctx.key_blocks, view),
                           prev_id=prev_id, next_id=next_id, reason=reason or "", error=error,
                           undoable=any(d.action != "undo" for d in view.history)), status


def decide_item(flag_id: int) -> Any:
    if (to := _needs_reviewer()) is not None:
        return to
    ctx = _ctx()
    reason = request.form.get("reason") or None
    action = request.form.get("action", "")
    codes = request.form.getlist("code")
    value = "|".join(codes) if action == "answer" else request.form.get("value", "")
    try:
        decide(ctx.store.engine, ctx.catalog, flag_id, action=action, value=value,
               reviewer=session["reviewer"], based_on=request.form.get("version", -1, type=int),
               holder=_holder())
    except (StaleDecision, ItemTaken) as err:
        return item(flag_id, error=str(err), status=409)
    except ReviewError as err:
        return item(flag_id, error=str(err), status=400)
    flash(i18n.text("saved", g.lang), "ok")
    return redirect(url_for("next_item", reason=reason or "", after=flag_id))


def key_item(flag_id: int) -> Any:
    """Key in an unreadable page (`pipeline.review.keying`); errors show on the item with
    what was typed kept."""
    if (to := _needs_reviewer()) is not None:
        return to
    ctx = _ctx()
    try:
        key_in(ctx.store.engine, ctx.catalog, flag_id, key_in_from_form(request.form),
               reviewer=session["reviewer"], based_on=request.form.get("version", -1, type=int),
               holder=_holder())
    except (StaleDecision, ItemTaken) as err:
        return item(flag_id, error=str(err), status=409)
    except ReviewError as err:
        return item(flag_id, error=str(err), status=400)
    flash(i18n.text("saved", g.lang), "ok")
    return redirect(url_for("next_item", reason=request.form.get("reason") or "", after=flag_id))


def undo_item(flag_id: int) -> Any:
    if (to := _needs_reviewer()) is not None:
        return to
    ctx = _ctx()
    try:
        undo(ctx.store.engine, flag_id, reviewer=session["reviewer"],
             based_on=request.form.get("version", -1, type=int), holder=_holder())
    except (StaleDecision, ItemTaken) as err:
        return item(flag_id, error=str(err), status=409)
    except ReviewError as err:
        return item(flag_id, error=str(err), status=400)
    flash(i18n.text("undone", g.lang), "ok")
    return redirect(url_for("item", flag_id=flag_id, reason=request.form.get("reason", "")))


# --- images (by database id only) -----------------------------------------------------


def _page_row(conn: sa.Connection, page_id: int) -> sa.Row:
    p = schema.pages
    row = conn.execute(sa.select(p.c.image_path, p.c.image_px_per_mm, p.c.image_registered)
                       .where(p.c.id == page_id)).first()
    if row is None:
        abort(404)
    return row


def _image(data: bytes, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def page_image(page_id: int) -> Any:
    ctx = _ctx()
    with ctx.store.engine.connect() as conn:
        row = _page_row(conn, page_id)
    try:
        path = safe_image_path(ctx.survey.root, ctx.survey.images_dir, row.image_path)
    except ReviewError:
        abort(404)
    return _image(path.read_bytes(), "image/jpeg")


def item_image(flag_id: int) -> Any:
    ctx = _ctx()
    try:
        with ctx.store.engine.connect() as conn:
            view = item_view(conn, ctx.catalog, flag_id)
            if view.entry.page_id is None:
                abort(404)
            row = _page_row(conn, view.entry.page_id)
        path = safe_image_path(ctx.survey.root, ctx.survey.images_dir, row.image_path)
        if not row.image_registered or not (view.targets or view.text_bbox_mm):
            return _image(path.read_bytes(), "image/jpeg")
        return _image(item_crop(path, float(row.image_px_per_mm), view.targets,
                                view.text_bbox_mm, view.neighbours), "image/png")
    except ReviewError:
        abort(404)


def comment_image(flag_id: int) -> Any:
    ctx = _ctx()
    c = schema.comments
    with ctx.store.engine.connect() as conn:
        entry = entry_for_flag_or_404(conn, flag_id)
        stored = conn.execute(sa.select(c.c.crop_path).where(
            c.c.sheet_id == entry.sheet_id, c.c.question == entry.question)).scalar()
    try:
        path = safe_image_path(ctx.survey.root, ctx.survey.images_dir, stored)
    except ReviewError:
        abort(404)
    return _image(path.read_bytes(), "image/png")


def entry_for_flag_or_404(conn: sa.Connection, flag_id: int) -> QueueEntry:
    try:
        return entry_for_flag(conn, flag_id)
    except ReviewError:
        abort(404)


# --- the app --------------------------------------------------------------------------


def _trusted(names: tuple[str, ...] | None) -> frozenset[str] | None:
    if not names:
        return None
    return frozenset(f"[{n}]" if ":" in n and not n.startswith("[") else n.lower() for n in names)


class DatabaseId(IntegerConverter):
    """A database id in a URL: a larger number is no id (404), never an overflow in the
    database driver (500). Ids are 32-bit INTEGER columns on PostgreSQL."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def create_app(survey: Survey, store: Store, catalog: FormCatalog, *, password: str | None = None,
               secret_key: bytes | None = None, claim_seconds: int = CLAIM_SECONDS,
               trusted_hosts: tuple[str, ...] | None = None,
               throttle: LoginThrottle | None = None) -> Flask:
    """The review app for `survey`. With `password`, every request (but the login form
    and the stylesheet) needs it: a login session or `Authorization: Bearer PASSWORD`.
    `secret_key` signs the session cookie (random per app when None: sessions end when
    the server stops). `trusted_hosts` limits the Host header a request may carry (the
    server passes the loopback names when it listens on loopback, so a web page that
    rebinds its own domain name to 127.0.0.1 cannot reach the app); others get 400.
    `throttle` counts wrong passwords (a fresh `LoginThrottle` by default)."""
    here = Path(__file__).parent
    app = Flask(__name__, template_folder=str(here / "templates"),
                static_folder=str(here / "static"))
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="phieu_review",
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["phieu_review"] = ReviewContext(survey, store, catalog, password or None,
                                                   claim_seconds, throttle or LoginThrottle(),
                                                   trusted_hosts=_trusted(trusted_hosts),
                                                   key_blocks=key_blocks(catalog))
    app.url_map.converters["id"] = DatabaseId
    register_error_pages(app)
    app.before_request(_before)
    app.after_request(_headers)
    app.context_processor(_templating)
    rules: list[tuple[str, Any, list[str]]] = [
        ("/login", login, ["GET", "POST"]),
        ("/logout", logout, ["POST"]),
        ("/name", name_form, ["GET", "POST"]),
        ("/lang", set_language, ["POST"]),
        ("/", queue, ["GET"]),
        ("/next", next_item, ["GET"]),
        ("/item/<id:flag_id>", item, ["GET"]),
        ("/item/<id:flag_id>/decide", decide_item, ["POST"]),
        ("/item/<id:flag_id>/undo", undo_item, ["POST"]),
        ("/item/<id:flag_id>/key", key_item, ["POST"]),
        ("/image/page/<id:page_id>.jpg", page_image, ["GET"]),
        ("/image/item/<id:flag_id>", item_image, ["GET"]),
        ("/image/comment/<id:flag_id>.png", comment_image, ["GET"]),
    ]
    for rule, view, methods in rules:
        app.add_url_rule(rule, view.__name__, view, methods=methods)
    app.register_blueprint(capture_blueprint(survey, store))  # /capture: photos from a phone
    return app
