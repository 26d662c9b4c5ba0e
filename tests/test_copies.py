"""The pages of one physical copy stay together (issue 12, finding 6): when a serial
reaches the store twice, which copy counts is decided per copy (its file), never page by
page, so a sheet never holds page 1 of one citizen's ballot and page 2 of another's."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from test_store import QUALITY, put, store  # noqa: F401  (store is a fixture)

from omr.reading import PageIdentity, PageReading, QuestionReading
from pipeline.store import schema
from pipeline.store.database import utcnow

pytestmark = pytest.mark.slow  # real scans of duplicate copies


def page(serial: int, number: int, value: str) -> PageReading:
    """Page `number` of a toy2 sheet whose answer on that page is `value`."""
    question = "a" if number == 1 else "b"
    return PageReading(PageIdentity("toy2", 1, number, serial), QUALITY, (),
                       (QuestionReading(question, "answered", (value,)),), ())


def counted(store) -> dict[str, tuple[int, str]]:  # noqa: F811
    """Question -> (source of the page it was read from, value) for the counted pages."""
    a, p = schema.answers, schema.pages
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(a.c.question, p.c.source_id, a.c.value)
                            .join(p, p.c.id == a.c.page_id).where(a.c.source == "machine")).all()
    return {q: (s, v) for q, s, v in rows}


def statuses(store) -> dict[tuple[int, int], str]:  # noqa: F811
    p = schema.pages
    with store.engine.connect() as conn:
        return {(s, i): st for s, i, st in conn.execute(sa.select(p.c.source_id, p.c.page_index, p.c.status))}


def test_two_copies_arriving_interleaved_are_never_mixed(store):  # noqa: F811
    put(store, 1, 1, page(2, 1, "1"))  # copy A (file 1), citizen X
    put(store, 2, 2, page(2, 2, "3"))  # copy B (file 2) page 2 first: nothing says it is B yet
    put(store, 2, 1, page(2, 1, "2"))  # copy B page 1: a second copy -> B's page 2 set back
    put(store, 1, 2, page(2, 2, "1"))  # copy A page 2 counts
    assert counted(store) == {"a": (1, "1"), "b": (1, "1")}
    assert statuses(store) == {(1, 1): "read", (1, 2): "read", (2, 1): "duplicate", (2, 2): "duplicate"}
    f = schema.flags
    with store.engine.connect() as conn:
        dup_pages = conn.execute(sa.select(f.c.page_id).where(f.c.reason == "duplicate",
                                                              f.c.status == "open")).all()
    assert len(dup_pages) == 2  # both pages of the other copy wait for a person


def test_a_page_of_the_other_copy_never_fills_a_gap_in_the_counted_copy(store):  # noqa: F811
    put(store, 1, 1, page(5, 1, "1"))  # copy A: its page 2 never arrives
    put(store, 2, 1, page(5, 1, "2"))  # copy B
    put(store, 2, 2, page(5, 2, "3"))  # B's page 2 must not complete A
    assert counted(store) == {"a": (1, "1")}
    assert statuses(store)[(2, 2)] == "duplicate"


def test_a_sheet_split_across_two_files_without_a_second_copy_counts_whole(store):  # noqa: F811
    put(store, 1, 9, page(7, 1, "1"))
    put(store, 2, 1, page(7, 2, "2"))
    assert counted(store) == {"a": (1, "1"), "b": (2, "2")}


def test_the_same_page_twice_in_one_file_keeps_the_first(store):  # noqa: F811
    with store.engine.begin() as conn:
        conn.execute(sa.update(schema.sources).values(page_count=10))
        assert utcnow()
    put(store, 1, 1, page(8, 1, "1"))
    put(store, 1, 2, page(8, 1, "2"))
    assert counted(store) == {"a": (1, "1")}
    assert statuses(store)[(1, 2)] == "duplicate"


def test_a_page_of_the_counted_copy_takes_the_place_another_copy_held(store):  # noqa: F811
    put(store, 1, 1, page(4, 1, "1"))  # copy A page 1
    put(store, 2, 2, page(4, 2, "3"))  # copy B page 2 (nothing says it is B's yet)
    put(store, 1, 2, page(4, 2, "1"))  # copy A page 2: B's page 2 is another copy
    assert counted(store) == {"a": (1, "1"), "b": (1, "1")}
    assert statuses(store)[(2, 2)] == "duplicate"


def test_a_persons_answer_given_on_a_page_set_back_goes_with_it(store):  # noqa: F811
    """A clerk's answer is read off one paper copy: when that copy stops counting, so does
    the answer (else copy B's page 2, keyed by a person, outweighs copy A's counted page 2)."""
    from pipeline.review.decisions import write_person_answer

    put(store, 1, 1, page(6, 1, "1"))  # copy A page 1
    put(store, 2, 2, page(6, 2, "3"))  # copy B page 2, counted for now
    p, a = schema.pages, schema.answers
    with store.engine.begin() as conn:
        page_id, sheet_id = conn.execute(sa.select(p.c.id, p.c.sheet_id).where(
            p.c.source_id == 2, p.c.page_index == 2)).one()
        write_person_answer(conn, sheet_id, "b", {"value": "2", "status": "answered"}, page_id)
    put(store, 1, 2, page(6, 2, "1"))  # copy A page 2: B's page 2 is set back
    with store.engine.connect() as conn:
        person = conn.execute(sa.select(a.c.question).where(a.c.source == "person")).all()
    assert person == []
    assert counted(store) == {"a": (1, "1"), "b": (1, "1")}


def test_a_file_holding_another_copy_is_named_for_a_key_in(store):  # noqa: F811
    """What a key-in asks before counting a page it keyed (it sets nothing back): a page
    from the file of another copy of the sheet never completes the counted copy."""
    from pipeline.scan.copies import other_copys_file

    put(store, 1, 1, page(3, 1, "1"))  # copy A page 1 (file 1); its page 2 unreadable, say
    put(store, 2, 1, page(3, 1, "2"))  # copy B page 1 (file 2): a second copy, set aside
    with store.engine.connect() as conn:
        sheet_id = conn.execute(sa.select(schema.sheets.c.id)).scalar_one()
        kept = other_copys_file(conn, sheet_id, 2)
        assert kept is not None and kept.source_id == 1
        assert other_copys_file(conn, sheet_id, 1) is None  # the counted copy's own file
        assert other_copys_file(conn, sheet_id, 3) is None  # no evidence it is another copy
    assert statuses(store) == {(1, 1): "read", (2, 1): "duplicate"}  # nothing changed
