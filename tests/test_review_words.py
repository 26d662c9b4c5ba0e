"""What a clerk types for an answer means the same in the review app, `phieu review set`
and `phieu review key`: one parser of option codes (or keys) and one set of words for no
answer and an invalid answer, which never hide an option with that code."""
import pytest

from forms.model import Option, Question
from pipeline.review.decisions import INVALID_WORDS, NO_ANSWER_WORDS, parse_codes
from pipeline.review.errors import ReviewError
from pipeline.review.keying import parse_value
from pipeline.review.scripted import _action

SCALE = Question("thai_do", "single", "Thái độ", tuple(Option(str(i), f"Mức {i}") for i in range(1, 6)))
MULTI = Question("kenh", "multi", "Kênh", tuple(Option(c, c.upper()) for c in ("a", "b", "c")))
NAMED = Question("gioi", "single", "Giới", (Option("nam", "Nam"), Option("nu", "Nữ")))
ZERO = Question("so_lan", "single", "Số lần", (Option("0", "Chưa lần nào"), Option("1", "Một lần")))
TEXT = Question("y_kien", "text", "Ý kiến", lines=3)

WORDS = [(w, "no_answer") for w in NO_ANSWER_WORDS] + [(w, "invalid") for w in INVALID_WORDS]


@pytest.mark.parametrize("word, status", WORDS, ids=[w for w, _ in WORDS])
def test_every_word_means_the_same_when_keyed_and_when_set(word, status):
    assert parse_value(SCALE, word) == (status, "")
    assert parse_value(SCALE, word.upper(), by_key=True) == (status, "")
    assert _action(SCALE.type, {o.code for o in SCALE.options}, word) == (status, "")


def test_an_option_coded_like_a_word_is_the_option():
    assert parse_value(ZERO, "0") == ("answered", "0")
    assert _action(ZERO.type, {"0", "1"}, "0") == ("answer", "0")
    assert parse_codes(ZERO, "0") == "0"


@pytest.mark.parametrize("typed", ["c|a", "c, a", "a c", "ca"], ids=["pipes", "commas", "spaces", "joined"])
def test_codes_come_back_in_form_order_however_separated(typed):
    assert parse_codes(MULTI, typed) == "a|c"


def test_keys_pick_options_by_position_when_codes_are_words():
    assert parse_value(NAMED, "2", by_key=True) == ("answered", "nu")
    assert parse_value(NAMED, "nu") == ("answered", "nu")
    with pytest.raises(ReviewError, match="'nu'"):
        parse_value(NAMED, "nu", by_key=True)


@pytest.mark.parametrize("typed, match", [("7", "'7'"), ("", "none given"), ("1|3", "takes one answer")],
                         ids=["unknown", "nothing", "two-on-a-single"])
def test_what_cannot_be_an_answer_is_refused_naming_it(typed, match):
    with pytest.raises(ReviewError, match=match):
        parse_codes(SCALE, typed)


def test_a_comment_is_its_text_unless_it_is_a_no_answer_or_illegible_word():
    assert parse_value(TEXT, "Cán bộ nhiệt tình") == ("answered", "Cán bộ nhiệt tình")
    assert parse_value(TEXT, "none") == ("no_answer", "")
    assert parse_value(TEXT, "") == ("no_answer", "")
    for word, status in WORDS:  # keyed as `phieu review set` reads them (invalid: illegible)
        assert parse_value(TEXT, word) == (status, "") == _action(TEXT.type, set(), word)
