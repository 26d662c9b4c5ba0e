"""Review without a browser: decisions beside the machine's reading, undo, versions,
claims, the audit export, `phieu review list|set`, and the web app's security (password
beyond localhost, CSRF, images only from the survey, escaping)."""
from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.outputs.export import responses_csv_frame
from pipeline.review import (
    ItemTaken,
    ReviewError,
    ReviewServerError,
    StaleDecision,
    claim_next,
    create_app,
    decide,
    i18n,
    make_review_server,
    open_browser,
    open_items,
    queue_counts,
    set_answer,
    undo,
)
from pipeline.review.claims import claim
from pipeline.review.serve import is_loopback
from pipeline.store import schema
from pipeline.store.database import open_flag, open_store

pytestmark = pytest.mark.slow  # a generated box scanned once for the module

try:
    from tests.review_support import built, csrf_token, ws  # noqa: F401  (fixtures)
except ImportError:  # tests/ itself on sys.path (pytest's default rootdir insertion)
    from review_support import built, csrf_token, ws  # noqa: F401


def _item(store, reason):
    with store.engine.connect() as conn:
        return next(e for e in open_items(conn) if e.reason == reason)


def _item_alone(store, reason):
    """An open item of `reason` on a sheet with no whole-sheet flag (a duplicate's sheet has
    every question in `flagged` until the duplicate is decided)."""
    with store.engine.connect() as conn:
        items = open_items(conn)
    whole_sheet = {e.sheet_id for e in items if not e.question}
    return next(e for e in items if e.reason == reason and e.sheet_id not in whole_sheet)


def _row(store, form, serial):
    frame = responses_csv_frame(store, form)
    return frame[frame.serial == serial].iloc[0]


def _counted_serial(store, form) -> int:
    """A sheet with nothing to review (the generated box always has some)."""
    frame = responses_csv_frame(store, form)
    return int(frame[frame.status == "counted"].serial.iloc[0])


def _answers(store, sheet_id, question):
    a = schema.answers
    with store.engine.connect() as conn:
        return {r.source: (r.value, r.status) for r in conn.execute(
            sa.select(a.c.source, a.c.value, a.c.status)
            .where(a.c.sheet_id == sheet_id, a.c.question == question))}


# --- decisions -----------------------------------------------------------------------


def test_the_box_has_each_kind_of_item(ws):
    _, store, _, _ = ws
    with store.engine.connect() as conn:
        reasons = {c.reason for c in queue_counts(conn)}
    assert {"overvote", "low_confidence", "duplicate", "unreadable"} <= reasons


def test_a_decision_sits_beside_the_machine_reading_and_undo_restores_it(ws):
    _, store, catalog, form = ws
    entry = _item_alone(store, "overvote")
    machine_before = _answers(store, entry.sheet_id, entry.question)["machine"]
    option = form.question(entry.question).options[1].code
    record = decide(store.engine, catalog, entry.flag_id, action="answer", value=option,
                    reviewer="Nguyễn Văn An", based_on=0)
    assert record.seq == 1 and "máy/machine" in record.before_text and option in record.after_text
    answers = _answers(store, entry.sheet_id, entry.question)
    assert answers["machine"] == machine_before  # never overwritten
    assert answers["person"] == (option, "answered")
    row = _row(store, form, entry.serial)
    assert row[entry.question] == option and entry.question not in row["flagged"].split("|")

    undo(store.engine, entry.flag_id, reviewer="Nguyễn Văn An", based_on=1)
    assert "person" not in _answers(store, entry.sheet_id, entry.question)
    row = _row(store, form, entry.serial)
    assert row[entry.question] == "" and entry.question in row["flagged"].split("|")
    assert row["status"] == "needs_review"
    with store.engine.connect() as conn:
        assert entry.subject in {e.subject for e in open_items(conn)}


def test_a_sheet_with_no_open_flag_becomes_reviewed(ws):
    _, store, catalog, form = ws
    with store.engine.connect() as conn:
        items = open_items(conn)
    whole_sheet = {e.serial for e in items if not e.question}  # e.g. the duplicate's sheet
    serial = next(e.serial for e in items if e.reason == "overvote" and e.serial not in whole_sheet)
    items = [e for e in items if e.serial == serial]
    for e in items:
        question = form.question(e.question)
        if question.type == "text":
            action, value = "text", "Đã đọc / read by a person"
        else:
            action, value = "answer", question.options[0].code
        decide(store.engine, catalog, e.flag_id, action=action, value=value, reviewer="An",
               based_on=0)
        assert _row(store, form, serial)["status"] == (
            "reviewed" if e is items[-1] else "needs_review")


def test_a_stale_decision_is_refused_with_who_decided(ws):
    _, store, catalog, form = ws
    entry = _item(store, "overvote")
    code = form.question(entry.question).options[0].code
    decide(store.engine, catalog, entry.flag_id, action="answer", value=code, reviewer="An",
           based_on=0)
    with pytest.raises(StaleDecision, match="An"):
        decide(store.engine, catalog, entry.flag_id, action="no_answer", value="",
               reviewer="Bình", based_on=0)
    assert _answers(store, entry.sheet_id, entry.question)["person"] == (code, "answered")


def test_bad_values_are_refused_naming_the_value(ws):
    _, store, catalog, form = ws
    entry = _item(store, "overvote")
    codes = [o.code for o in form.question(entry.question).options]
    with pytest.raises(ReviewError, match="'zz'"):
        decide(store.engine, catalog, entry.flag_id, action="answer", value="zz",
               reviewer="An", based_on=0)
    with pytest.raises(ReviewError, match="one answer"):
        decide(store.engine, catalog, entry.flag_id, action="answer",
               value=f"{codes[0]}|{codes[1]}", reviewer="An", based_on=0)
    with pytest.raises(ReviewError, match="reviewer"):
        decide(store.engine, catalog, entry.flag_id, action="invalid", value="", reviewer="  ",
               based_on=0)
    with pytest.raises(ReviewError, match="does not apply"):
        decide(store.engine, catalog, entry.flag_id, action="assign", value="3",
               reviewer="An", based_on=0)


def test_invalid_and_transcribed_text_reach_the_export(ws):
    _, store, catalog, form = ws
    over = _item(store, "overvote")
    decide(store.engine, catalog, over.flag_id, action="invalid", value="", reviewer="An",
           based_on=0)
    assert _answers(store, over.sheet_id, over.question)["person"] == ("", "invalid")
    assert _row(store, form, over.serial)[over.question] == ""
    text = _item(store, "low_confidence")
    decide(store.engine, catalog, text.flag_id, action="text", value="  Cán bộ nhiệt tình.  ",
           reviewer="An", based_on=0)
    assert _row(store, form, text.serial)[text.question] == "Cán bộ nhiệt tình."


def test_duplicate_keep_first_then_reject_sheet_then_undo(ws):
    _, store, catalog, form = ws
    dup = _item(store, "duplicate")
    p = schema.pages
    decide(store.engine, catalog, dup.flag_id, action="keep_first", value="", reviewer="An",
           based_on=0)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(p.c.status).where(p.c.id == dup.page_id)).scalar() == "rejected"
    decide(store.engine, catalog, dup.flag_id, action="reject_sheet", value="", reviewer="An",
           based_on=1)
    assert _row(store, form, dup.serial)["status"] == "rejected"
    undo(store.engine, dup.flag_id, reviewer="An", based_on=2)
    assert _row(store, form, dup.serial)["status"] != "rejected"
    undo(store.engine, dup.flag_id, reviewer="An", based_on=3)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(p.c.status).where(p.c.id == dup.page_id)).scalar() == "duplicate"
    with pytest.raises(ReviewError, match="nothing to undo"):
        undo(store.engine, dup.flag_id, reviewer="An", based_on=4)


def test_an_unreadable_page_is_assigned_by_serial_or_refused(ws):
    _, store, catalog, _ = ws
    page = _item(store, "unreadable")
    with pytest.raises(ReviewError, match="999"):
        decide(store.engine, catalog, page.flag_id, action="assign", value="999",
               reviewer="An", based_on=0)
    with pytest.raises(ReviewError, match="abc"):
        decide(store.engine, catalog, page.flag_id, action="assign", value="abc",
               reviewer="An", based_on=0)
    serial = _item(store, "overvote").serial
    decide(store.engine, catalog, page.flag_id, action="assign", value=f" {serial} ",
           reviewer="An", based_on=0)
    p, s = schema.pages, schema.sheets
    with store.engine.connect() as conn:
        sheet = conn.execute(sa.select(p.c.sheet_id).where(p.c.id == page.page_id)).scalar()
        assert conn.execute(sa.select(s.c.serial).where(s.c.id == sheet)).scalar() == serial
        assert page.subject not in {e.subject for e in open_items(conn)}


def test_a_blank_ballot_is_accepted_or_the_sheet_rejected(ws):
    _, store, catalog, form = ws
    s = schema.sheets
    serial = _counted_serial(store, form)
    with store.engine.begin() as conn:
        sheet_id = conn.execute(sa.select(s.c.id).where(s.c.serial == serial)).scalar()
        open_flag(conn, reason="blank_ballot", detail="test", sheet_id=sheet_id)
    blank = _item(store, "blank_ballot")
    decide(store.engine, catalog, blank.flag_id, action="reject_sheet", value="",
           reviewer="An", based_on=0)
    assert _row(store, form, serial)["status"] == "rejected"
    undo(store.engine, blank.flag_id, reviewer="An", based_on=1)
    assert _row(store, form, serial)["status"] == "needs_review"
    decide(store.engine, catalog, blank.flag_id, action="accept", value="", reviewer="An",
           based_on=2)
    assert _row(store, form, serial)["status"] == "reviewed"


# --- claims --------------------------------------------------------------------------


def test_concurrent_reviewers_never_get_the_same_item(ws):
    _, store, _, _ = ws
    got: dict[str, str | None] = {}
    with store.engine.connect() as conn:
        clerks = min(6, len(open_items(conn)))
    assert clerks >= 4
    barrier = threading.Barrier(clerks)

    def take(name: str) -> None:
        barrier.wait()
        entry = claim_next(store.engine, f"web:{name}", name)
        got[name] = entry.subject if entry else None

    threads = [threading.Thread(target=take, args=(f"r{i}",)) for i in range(clerks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    subjects = [s for s in got.values() if s]
    assert len(subjects) == clerks and len(set(subjects)) == clerks


def test_a_claimed_item_is_refused_to_others_until_it_expires(ws):
    _, store, catalog, form = ws
    entry = _item(store, "overvote")
    code = form.question(entry.question).options[0].code
    with store.engine.begin() as conn:
        assert claim(conn, entry.subject, "web:a", "An")
        assert not claim(conn, entry.subject, "web:b", "Bình")
    with pytest.raises(ItemTaken, match="An"):
        decide(store.engine, catalog, entry.flag_id, action="answer", value=code,
               reviewer="Bình", based_on=0, holder="web:b")
    with pytest.raises(ItemTaken):
        set_answer(store.engine, catalog, entry.serial, entry.question, code, reviewer="Chi")
    with store.engine.begin() as conn:
        assert claim(conn, entry.subject, "web:a", "An", seconds=-1)  # now expired
        assert claim(conn, entry.subject, "web:b", "Bình")


# --- command line ----------------------------------------------------------------------


def test_review_list_set_and_export_audit(ws, run_phieu, tmp_path):
    survey, store, _, form = ws
    listed = run_phieu("review", "list", "--survey", survey.root)
    assert listed.code == 0
    lines = listed.out.strip().splitlines()
    with store.engine.connect() as conn:
        assert len(lines) == len(open_items(conn))
    assert all(len(line.split("\t")) == 6 for line in lines)
    first = next(line.split("\t") for line in lines if "\tovervote\t" in line)
    serial, question = int(first[3]), first[4]
    done = run_phieu("review", "set", serial, question, "none", "--reviewer", "Lê Thị Hoa",
                     "--survey", survey.root)
    assert done.code == 0, done.err
    assert "không trả lời" in done.out
    after = run_phieu("review", "--survey", survey.root, "list").out.strip().splitlines()
    assert len(after) == len(lines) - 1
    bad = run_phieu("review", "set", serial, "khong_co", "1", "--reviewer", "Hoa",
                    "--survey", survey.root)
    assert bad.code == 5 and "khong_co" in bad.err and len(bad.err.strip().splitlines()) == 1
    out = tmp_path / "audit.csv"
    assert run_phieu("export", "audit", "-o", out, "--survey", survey.root).code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1
    assert rows[0]["reviewer"] == "Lê Thị Hoa" and rows[0]["serial"] == str(serial)
    assert rows[0]["action"] == "no_answer" and rows[0]["question"] == question
    assert "máy/machine" in rows[0]["before"] and "không trả lời" in rows[0]["after"]


def test_review_set_corrects_an_unflagged_answer(ws):
    _, store, catalog, form = ws
    serial = _counted_serial(store, form)
    code = "1" if _row(store, form, serial)["thai_do"] != "1" else "2"
    record = set_answer(store.engine, catalog, serial, "thai_do", code, reviewer="An")
    assert record.value == code and "máy/machine" in record.before_text
    assert _row(store, form, serial)["thai_do"] == code


def test_review_beyond_localhost_without_password_refuses_to_start(ws, run_phieu, monkeypatch):
    survey = ws[0]
    monkeypatch.delenv("PHIEU_REVIEW_PASSWORD", raising=False)
    result = run_phieu("review", "--host", "0.0.0.0", "--no-browser", "--survey", survey.root)
    assert result.code == 8 and "password" in result.err
    with pytest.raises(ReviewServerError, match="shorter"):
        make_review_server(survey, host="0.0.0.0", port=0, password="abc")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_open_browser_never_fails(monkeypatch):
    import webbrowser

    def broken(url):
        raise webbrowser.Error("no browser")

    monkeypatch.setattr(webbrowser, "open", broken)
    assert open_browser("http://127.0.0.1:1/") is False


# --- the web app -------------------------------------------------------------------------


def _client(ws, password=None, claim_seconds=300):
    survey, store, catalog, _ = ws
    app = create_app(survey, store, catalog, password=password, claim_seconds=claim_seconds)
    return app.test_client()


def _named(client, name="An"):
    token = csrf_token(client)
    client.post("/name", data={"reviewer": name, "csrf": token})
    return token


def test_with_a_password_every_request_needs_it(ws):
    client = _client(ws, password="mat-khau-dai")
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302
    assert client.get("/image/page/1.jpg").status_code == 401
    assert client.get("/item/1", headers={"Accept": "application/json"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/login").status_code == 200
    token = csrf_token(client)
    assert client.post("/login", data={"password": "sai", "csrf": token}).status_code == 401
    assert client.post("/login", data={"password": "mat-khau-dai", "csrf": token}).status_code == 302
    assert client.get("/image/page/1.jpg").status_code == 200
    bearer = _client(ws, password="mat-khau-dai")
    assert bearer.get("/image/page/1.jpg",
                      headers={"Authorization": "Bearer mat-khau-dai"}).status_code == 200


def test_every_post_needs_the_csrf_token(ws):
    client = _client(ws)
    token = csrf_token(client)
    assert client.post("/name", data={"reviewer": "An"}).status_code == 403
    assert client.post("/name", data={"reviewer": "An", "csrf": "forged"}).status_code == 403
    assert client.post("/name", data={"reviewer": "An", "csrf": token}).status_code == 302
    _, store, _, _ = ws
    entry = _item(store, "overvote")
    refused = client.post(f"/item/{entry.flag_id}/decide",
                          data={"action": "no_answer", "version": "0"})
    assert refused.status_code == 403
    assert "person" not in _answers(store, entry.sheet_id, entry.question)


def test_images_only_from_inside_the_survey(ws, tmp_path):
    survey, store, _, _ = ws
    client = _client(ws)
    _named(client)
    assert client.get("/image/page/1.jpg").status_code == 200
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"not for the browser")
    link = survey.images_dir / "link.jpg"
    link.symlink_to(secret)
    p = schema.pages
    for stored in (str(Path("..") / ".." / secret.relative_to(tmp_path.parent.parent)),
                   str(secret), "images/link.jpg", "survey.sqlite"):
        with store.engine.begin() as conn:
            conn.execute(sa.update(p).where(p.c.id == 1).values(image_path=stored))
        response = client.get("/image/page/1.jpg")
        assert response.status_code == 404, stored
        assert b"not for the browser" not in response.data
    assert client.get("/image/page/99999.jpg").status_code == 404
    assert client.get("/image/page/..%2F..%2Fsurvey.sqlite").status_code == 404


def test_reviewer_input_is_escaped_everywhere_it_is_shown(ws):
    _, store, _, _ = ws
    evil = "<script>alert('x')</script>"
    client = _client(ws)
    token = _named(client, evil)
    page = client.get("/").get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;" in page
    entry = _item(store, "low_confidence")
    client.get(f"/item/{entry.flag_id}")
    done = client.post(f"/item/{entry.flag_id}/decide",
                       data={"action": "text", "value": f"<img src=x onerror=alert(1)>{evil}",
                             "version": "0", "csrf": token})
    assert done.status_code == 302
    shown = client.get(f"/item/{entry.flag_id}").get_data(as_text=True)
    assert evil not in shown and "<img src=x" not in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "script-src 'self'" in client.get("/").headers["Content-Security-Policy"]


def test_the_queue_and_an_item_render_in_both_languages(ws):
    _, store, _, _ = ws
    client = _client(ws)
    token = _named(client)
    page = client.get("/").get_data(as_text=True)
    assert "Hàng chờ duyệt" in page and "Chọn nhiều hơn một" in page
    entry = _item(store, "overvote")
    item = client.get(f"/item/{entry.flag_id}").get_data(as_text=True)
    assert 'name="code"' in item and f"/image/item/{entry.flag_id}" in item
    assert client.get(f"/image/item/{entry.flag_id}").mimetype == "image/png"
    dup = _item(store, "duplicate")
    shown = client.get(f"/item/{dup.flag_id}").get_data(as_text=True)
    assert f"/image/page/{dup.page_id}.jpg" in shown and 'id="counted"' in shown
    client.post("/lang", data={"csrf": token, "next": "/"})
    assert "Review queue" in client.get("/").get_data(as_text=True)
    assert client.post("/lang", data={"csrf": token, "next": "//evil.example/"}).location == "/"


def test_both_languages_have_the_same_strings():
    assert set(i18n.STRINGS["vi"]) == set(i18n.STRINGS["en"])
    assert set(i18n.REASONS["vi"]) == set(i18n.REASONS["en"])
    assert set(i18n.ACTIONS["vi"]) == set(i18n.ACTIONS["en"])


def test_in_the_app_a_late_decision_is_refused_not_written_over(ws):
    _, store, _, form = ws
    entry = _item(store, "overvote")
    codes = [o.code for o in form.question(entry.question).options]
    # Claims that expire at once let both clerks open the item (as after a long pause).
    mai, hung = _client(ws, claim_seconds=-1), _client(ws, claim_seconds=-1)
    mai_token, hung_token = _named(mai, "Mai"), _named(hung, "Hùng")
    assert 'name="version" value="0"' in mai.get(f"/item/{entry.flag_id}").get_data(as_text=True)
    assert 'name="version" value="0"' in hung.get(f"/item/{entry.flag_id}").get_data(as_text=True)
    first = hung.post(f"/item/{entry.flag_id}/decide",
                      data={"action": "answer", "code": codes[0], "version": "0", "csrf": hung_token})
    assert first.status_code == 302
    late = mai.post(f"/item/{entry.flag_id}/decide",
                    data={"action": "answer", "code": codes[1], "version": "0", "csrf": mai_token})
    assert late.status_code == 409 and "Hùng" in late.get_data(as_text=True)
    assert _answers(store, entry.sheet_id, entry.question)["person"] == (codes[0], "answered")


def test_going_back_to_the_queue_frees_the_item(ws):
    _, store, _, _ = ws
    mai, hung = _client(ws), _client(ws)
    _named(mai, "Mai")
    _named(hung, "Hùng")
    entry = _item(store, "overvote")
    mai.get(f"/item/{entry.flag_id}")
    assert 'id="taken"' in hung.get(f"/item/{entry.flag_id}").get_data(as_text=True)
    mai.get("/")
    assert 'id="taken"' not in hung.get(f"/item/{entry.flag_id}").get_data(as_text=True)


def test_a_loopback_server_answers_only_to_loopback_host_names(ws):
    import http.client

    survey = ws[0]
    running = make_review_server(survey, host="127.0.0.1", port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        port = running.port

        def status(host: str) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/", headers={"Host": host})
            code = conn.getresponse().status
            conn.close()
            return code

        assert status(f"127.0.0.1:{port}") == 302  # to the name form
        assert status(f"localhost:{port}") == 302
        assert status(f"rebound.example:{port}") == 400
    finally:
        running.shutdown()
        thread.join(timeout=5)


@pytest.mark.parametrize("target", ["//evil.example/", "/\t/evil.example/", "/\\evil.example",
                                    "https://evil.example/", "javascript:alert(1)"])
def test_redirects_stay_on_the_app(ws, target):
    client = _client(ws)
    token = csrf_token(client)
    assert client.post("/lang", data={"csrf": token, "next": target}).location == "/"
    assert client.post("/name", data={"csrf": token, "reviewer": "An", "next": target}).location == "/"


def test_migration_0002_creates_the_review_tables_the_code_describes(tmp_path):
    from pipeline.review import tables

    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    inspector = sa.inspect(store.engine)
    for table in tables.metadata.sorted_tables:
        db_columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert db_columns == {c.name for c in table.columns}, table.name
    uniques = inspector.get_unique_constraints("review_decisions")
    assert any(set(u["column_names"]) == {"subject", "seq"} for u in uniques)


def test_undo_reverts_only_what_its_decision_changed(ws):
    """A sheet rejected through one item stays rejected when a decision on another item
    of the same sheet is undone."""
    _, store, catalog, form = ws
    dup = _item(store, "duplicate")
    decide(store.engine, catalog, dup.flag_id, action="keep_first", value="", reviewer="An",
           based_on=0)
    with store.engine.begin() as conn:
        open_flag(conn, reason="blank_ballot", detail="test", sheet_id=dup.sheet_id)
    blank = _item(store, "blank_ballot")
    decide(store.engine, catalog, blank.flag_id, action="reject_sheet", value="",
           reviewer="Bình", based_on=0)
    undo(store.engine, dup.flag_id, reviewer="An", based_on=1)
    assert _row(store, form, dup.serial)["status"] == "rejected"
    undo(store.engine, blank.flag_id, reviewer="Bình", based_on=1)
    assert _row(store, form, dup.serial)["status"] == "needs_review"


def test_undoing_one_rejection_keeps_another_clerks_rejection(ws):
    """Two clerks reject the same sheet through two items; when the first undoes hers,
    the second's rejection still stands, so the sheet is not counted."""
    _, store, catalog, form = ws
    dup = _item(store, "duplicate")
    with store.engine.begin() as conn:
        open_flag(conn, reason="blank_ballot", detail="test", sheet_id=dup.sheet_id)
    blank = _item(store, "blank_ballot")
    decide(store.engine, catalog, dup.flag_id, action="reject_sheet", value="", reviewer="An",
           based_on=0)
    decide(store.engine, catalog, blank.flag_id, action="reject_sheet", value="",
           reviewer="Bình", based_on=0)
    undo(store.engine, dup.flag_id, reviewer="An", based_on=1)
    assert _row(store, form, dup.serial)["status"] == "rejected"
    undo(store.engine, blank.flag_id, reviewer="Bình", based_on=1)
    assert _row(store, form, dup.serial)["status"] != "rejected"


# --- issue 12: a held question, and status agreeing with the list ----------------------


def test_review_set_refuses_a_held_question_naming_who_and_until_when_unless_forced(ws, run_phieu, tmp_path):
    survey, store, catalog, form = ws
    entry = _item(store, "overvote")
    with store.engine.begin() as conn:
        assert claim(conn, entry.subject, "web:a", "Nguyễn Văn An")
    refused = run_phieu("review", "set", entry.serial, entry.question, "none", "--reviewer", "Hoa",
                        "--survey", survey.root)
    assert refused.code == ItemTaken.exit_code
    assert "Nguyễn Văn An" in refused.err and "UTC" in refused.err and "--force" in refused.err
    assert "person" not in _answers(store, entry.sheet_id, entry.question)
    forced = run_phieu("review", "set", entry.serial, entry.question, "none", "--reviewer", "Hoa",
                       "--force", "--survey", survey.root)
    assert forced.code == 0, forced.err
    assert _answers(store, entry.sheet_id, entry.question)["person"] == ("", "no_answer")
    out = tmp_path / "audit.csv"
    assert run_phieu("export", "audit", "-o", out, "--survey", survey.root).code == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        row = list(csv.DictReader(fh))[-1]
    assert row["reviewer"] == "Hoa" and "--force" in row["after"] and "Nguyễn Văn An" in row["after"]
    # An's own decision, made on what An saw, is now refused as stale: nothing overwritten.
    with pytest.raises(StaleDecision, match="Hoa"):
        decide(store.engine, catalog, entry.flag_id, action="answer",
               value=form.question(entry.question).options[0].code, reviewer="Nguyễn Văn An",
               based_on=0, holder="web:a")


def test_status_and_review_list_count_the_same_items_when_a_question_has_two_flags(ws, run_phieu):
    survey, store, _, _ = ws

    def counts() -> tuple[int, int, list[str], str]:
        listed = run_phieu("review", "list", "--survey", survey.root).out.strip().splitlines()
        status = run_phieu("status", "--survey", survey.root).out
        line = next(s for s in status.splitlines() if s.startswith("Chờ duyệt"))
        items, flags = (int(w) for w in line.replace(",", " ").split() if w.isdigit())
        assert items == len(listed)
        with store.engine.connect() as conn:
            n_flags = conn.execute(sa.select(sa.func.count()).select_from(schema.flags)
                                   .where(schema.flags.c.status == "open")).scalar_one()
        assert flags == n_flags
        return items, flags, listed, status

    items_before, flags_before, _, _ = counts()
    entry = _item(store, "overvote")
    with store.engine.begin() as conn:
        assert open_flag(conn, reason="marginal", detail="mờ", sheet_id=entry.sheet_id,
                         question=entry.question)
    items, flags, listed, status = counts()
    # a second flag on the same question is one more flag, not one more item
    assert (items, flags) == (items_before, flags_before + 1)
    by_reason = {}
    for row in listed:
        reason = row.split("\t")[1]
        by_reason[reason] = by_reason.get(reason, 0) + 1
    for reason, n in by_reason.items():
        assert f"  {reason}: {n}" in status
