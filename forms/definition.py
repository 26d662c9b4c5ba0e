"""Questionnaire YAML -> validated `forms.model.Form`.

Loading checks everything and reports every problem at once, each as
``<file>:<line>: <what is wrong> — <what to write instead>`` (Vietnamese first,
English second), then raises `FormDefinitionError`. The checks: YAML syntax,
unknown keys (with the closest known key suggested), missing required keys,
keys written twice, wrong value types, duplicate question ids, option codes used
twice, a scale without options, references to unknown scales or criteria groups,
and a question too tall to fit on one printed page (measured by the layout
engine, so the check and the printed form can never disagree).

The file format, by example::

    id: mot-cua                 # lower-case letters, digits, '-' and '_'
    version: 1
    title: PHIẾU KHẢO SÁT ...
    office: SỞ ...
    intro: ...                  # optional
    instructions: ...           # optional; a default is written from the marks used
    groups: {tiep_can: Tiếp cận dịch vụ, ...}          # criteria groups (optional)
    comment_topics:             # optional: how the report groups written comments
      - {label: Cơ sở vật chất, keywords: [nhà vệ sinh, ghế, quạt]}
    scales:
      hai_long:
        options: [{code: "1", label: Rất không hài lòng}, ...]
        satisfied: ["4", "5"]
    sections:
      - heading: PHẦN A. ...
        questions:
          - {id: gioi_tinh, type: single, text: Giới tính, mark: box,
             options: [{code: nam, label: Nam}, {code: nu, label: Nữ}]}
          - {id: q5, type: single, text: ..., scale: hai_long, group: chung}
          - {id: b, type: matrix, text: ..., scale: hai_long, mark: digit,
             rows: [{id: b1, text: ..., group: tiep_can}, ...]}
          - {id: y_kien, type: text, text: Ý kiến góp ý khác, lines: 4}
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forms.errors import BadInput, FormDefinitionError
from forms.model import Block, CommentTopic, Form, MarkStyle, Matrix, Option, Question, Scale, Section
from forms.yamlnodes import LineDict, LineList, load_with_lines

# key -> required?
FORM_KEYS = {
    "id": True, "version": True, "title": True, "office": True, "intro": False,
    "instructions": False, "groups": False, "scales": False, "sections": True,
    "comment_topics": False,
}
TOPIC_KEYS = {"label": True, "keywords": True}
SECTION_KEYS = {"heading": True, "intro": False, "questions": True}
SCALE_KEYS = {"options": True, "satisfied": False}
OPTION_KEYS = {"code": True, "label": True, "score": False}
CHOICE_KEYS = {
    "id": True, "type": True, "text": True, "mark": False, "options": False,
    "scale": False, "group": False,
}
TEXT_KEYS = {"id": True, "type": True, "text": True, "lines": False}
MATRIX_KEYS = {
    "id": True, "type": True, "text": False, "scale": True, "mark": False,
    "group": False, "rows": True, "group_headings": False,
}
ROW_KEYS = {"id": True, "text": True, "group": False}
QUESTION_TYPES = ("single", "multi", "text", "matrix")
MARKS = ("box", "digit")

FORM_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
QUESTION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# responses.csv has these columns before the questions (DESIGN.md).
RESERVED_IDS = ("serial", "status", "flagged", "sheet_flags")
MAX_TEXT_LINES = 40
MAX_DIGIT_CODE_LEN = 2  # a circled "digit" target prints the code itself

DEFAULT_INSTRUCTIONS = {
    "box": "Xin Ông/Bà đánh dấu ✓ hoặc ✗ vào ô □ phù hợp. Nếu đánh nhầm, hãy tô kín ô "
    "sai và đánh dấu vào ô đúng; câu có hai lựa chọn sẽ được cán bộ kiểm tra lại.",
    "digit": "Xin Ông/Bà khoanh tròn chữ số phù hợp. Nếu khoanh nhầm, hãy gạch chéo chữ "
    "số đó và khoanh chữ số đúng; câu có hai lựa chọn sẽ được cán bộ kiểm tra lại.",
    "both": "Xin Ông/Bà đánh dấu ✓ hoặc ✗ vào ô □ phù hợp, hoặc khoanh tròn chữ số phù "
    "hợp. Nếu đánh nhầm, hãy tô kín ô sai (hoặc gạch chéo chữ số khoanh nhầm) rồi đánh "
    "dấu lựa chọn đúng; câu có hai lựa chọn sẽ được cán bộ kiểm tra lại.",
}


@dataclass
class _Problems:
    """Collects the problems of one file while it is checked (local to one load)."""

    path: str
    found: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line: int, where: str, vi: str, en: str, fix_vi: str = "",
            fix_en: str = "") -> None:
        text = f"{self.path}:{line}: [{where}] {vi} / {en}"
        if fix_vi or fix_en:
            text += f" — {fix_vi} / {fix_en}"
        self.found.append((line, text))

    @property
    def items(self) -> list[str]:
        """The problems in file order (stable for problems on the same line)."""
        return [text for _, text in sorted(self.found, key=lambda item: item[0])]


@dataclass
class _Context:
    """What later parts of the file may refer to, filled while checking."""

    scales: dict[str, Scale]
    groups: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)  # id -> line of first use
    broken_scales: frozenset[str] = frozenset()  # defined, but with problems (reported)


def load_definition(path: str | Path, *, check_layout: bool = True) -> Form:
    """Load and validate the questionnaire YAML at `path` (`check_layout`: see
    `parse_definition`).

    Raises `BadInput` when the file cannot be read and `FormDefinitionError`
    (listing every problem with its line) when its content is not a valid form.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(
            f"Không tìm thấy tệp / file not found: {path}",
            "kiểm tra đường dẫn / check the path (phieu forms list shows the shipped forms)",
        ) from None
    except UnicodeDecodeError as err:
        raise BadInput(
            f"Tệp không phải UTF-8 / {path} is not UTF-8 text (byte {err.start})",
            "lưu lại tệp với mã hoá UTF-8 / save the file as UTF-8",
        ) from None
    except OSError as err:
        raise BadInput(f"Không đọc được tệp / cannot read {path}: {err.strerror}") from None
    return parse_definition(text, source=str(path), check_layout=check_layout)


def parse_definition(text: str, source: str = "<text>", *, check_layout: bool = True) -> Form:
    """Validate questionnaire YAML `text` (named `source` in messages) into a Form.

    Without `check_layout` the checks that measure with the layout engine (a block too
    tall for a page, a header over the markers) are left out: a survey's copy with a frozen
    layout (`forms.frozen`) was checked when it was frozen, and a later engine that would
    lay it out taller must not make the survey's own paper unreadable."""
    problems = _Problems(source)
    try:
        doc = load_with_lines(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        context = getattr(err, "context_mark", None)
        if context is not None and context.line + 1 != line:
            # e.g. an unclosed quote: the error surfaces lines later, at the
            # end of the file; where the construct began is the useful line.
            what += f"; {err.context} (dòng/line {context.line + 1})"
        problems.add(
            line, "YAML", f"lỗi cú pháp YAML ({what})", f"YAML syntax error ({what})",
            "kiểm tra thụt lề, dấu ':' và dấu ngoặc kép ở dòng này hoặc dòng trên",
            "check the indentation, ':' and quotes on this line or the one above",
        )
        raise FormDefinitionError(source, problems.items) from None
    form = _form(problems, doc, source)
    if check_layout and form is not None and form.sections:
        _check_fits(problems, form)
    if check_layout and form is not None:
        _check_header(problems, form, doc)
    if problems.found or form is None:
        raise FormDefinitionError(source, problems.items)
    return form


# --- generic checks -------------------------------------------------------------


def _keys(p: _Problems, m: LineDict, allowed: dict[str, bool], where: str) -> None:
    """Report unknown, missing and repeated keys of mapping `m` (described as `where`)."""
    for key, line in m.repeated:
        p.add(line, where, f"khóa '{key}' viết hai lần",
              f"key '{key}' written twice",
              "giữ một lần", "keep only one")
    for key in m:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
        if close:
            fix = (f"ý bạn là '{close[0]}'?", f"did you mean '{close[0]}'?")
        else:
            fix = ("các khóa hợp lệ: " + ", ".join(allowed),
                   "known keys: " + ", ".join(allowed))
        p.add(m.line_of(key), where, f"khóa không hợp lệ '{key}'",
              f"unknown key '{key}'", *fix)
    for key, required in allowed.items():
        if required and key not in m:
            p.add(m.line, where, f"thiếu khóa '{key}'",
                  f"missing key '{key}'",
                  f"thêm '{key}: ...'", f"add '{key}: ...'")


def _text(p: _Problems, m: LineDict, key: str, where: str, default: str | None = None) -> str | None:
    """The text under `key`; numbers are accepted as their text. None if absent or bad."""
    if key not in m:
        return default
    value = m[key]
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        shown = ("trống / empty" if value is None else "list" if isinstance(value, list)
                 else "mapping" if isinstance(value, dict) else type(value).__name__)
        p.add(m.line_of(key), where, f"'{key}' phải là văn bản (đang là {shown})",
              f"'{key}' must be text (got {shown})",
              "viết văn bản, đặt trong dấu ngoặc kép nếu cần",
              "write text, in double quotes if needed")
        return None
    text = str(value).strip()
    if not text:
        p.add(m.line_of(key), where, f"'{key}' đang để trống",
              f"'{key}' is empty", "viết nội dung", "write the text")
        return None
    return text


def _integer(p: _Problems, m: LineDict, key: str, where: str, low: int, high: int,
             default: int | None = None) -> int | None:
    if key not in m:
        return default
    value = m[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        p.add(m.line_of(key), where, f"'{key}' phải là số nguyên từ {low} đến {high} "
              f"(đang là {value!r})",
              f"'{key}' must be a whole number from {low} to {high} (got {value!r})",
              f"ví dụ '{key}: {low}'", f"e.g. '{key}: {low}'")
        return None
    return value


def _mapping(p: _Problems, value: Any, line: int, where: str) -> LineDict | None:
    if isinstance(value, LineDict):
        return value
    p.add(line, where, "phải là một bảng khóa: giá trị",
          "must be a mapping of key: value",
          "viết mỗi khóa trên một dòng, dạng 'khóa: giá trị'",
          "write one 'key: value' per line")
    return None


def _sequence(p: _Problems, m: LineDict, key: str, where: str) -> LineList | None:
    value = m.get(key)
    if isinstance(value, LineList) and value:
        return value
    if isinstance(value, LineList) or value is None:
        p.add(m.line_of(key), where, f"'{key}' không có mục nào",
              f"'{key}' has no items",
              "thêm ít nhất một mục, mỗi mục bắt đầu bằng '- '",
              "add at least one item, each starting with '- '")
    else:
        p.add(m.line_of(key), where, f"'{key}' phải là danh sách",
              f"'{key}' must be a list",
              "viết mỗi mục trên một dòng bắt đầu bằng '- '",
              "write each item on a line starting with '- '")
    return None


def _mark_style(p: _Problems, m: LineDict, where: str) -> MarkStyle | None:
    mark = _choice(p, m, "mark", MARKS, where, default="box")
    return "digit" if mark == "digit" else "box" if mark == "box" else None


def _choice(p: _Problems, m: LineDict, key: str, allowed: tuple[str, ...], where: str,
            default: str) -> str | None:
    value = m.get(key, default)
    if value in allowed:
        return value
    close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
    fix_vi = f"ý bạn là '{close[0]}'?" if close else "chọn: " + ", ".join(allowed)
    fix_en = f"did you mean '{close[0]}'?" if close else "one of: " + ", ".join(allowed)
    p.add(m.line_of(key), where, f"'{key}' không hợp lệ: {value!r}",
          f"'{key}' is not valid: {value!r}", fix_vi, fix_en)
    return None


def _reference(p: _Problems, m: LineDict, key: str, known: dict[str, Any], kind: str,
               where: str, broken: frozenset[str] = frozenset()) -> str | None:
    """A reference to a scale or criteria group; None when absent or unknown.

    A reference to one of `broken` (defined with problems, already reported)
    is None without a second message.
    """
    if key not in m:
        return None
    name = m[key]
    if isinstance(name, str) and name in known:
        return name
    if name in broken:
        return None
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.5)
    if close:
        fix = (f"ý bạn là '{close[0]}'?", f"did you mean '{close[0]}'?")
    elif known:
        fix = ("có: " + ", ".join(known), "defined: " + ", ".join(known))
    else:
        fix = (f"khai báo nó trong '{kind}s:' ở đầu tệp",
               f"define it under '{kind}s:' at the top of the file")
    p.add(m.line_of(key), where, f"dùng {kind} chưa khai báo '{name}'",
          f"uses an undefined {kind} '{name}'", *fix)
    return None


def _new_id(p: _Problems, ctx: _Context, m: LineDict, where: str) -> str | None:
    """The block's id, checked for form and uniqueness, and recorded."""
    qid = _text(p, m, "id", where)
    if qid is None:
        return None
    line = m.line_of("id")
    if not QUESTION_ID_RE.match(qid):
        p.add(line, where, f"mã câu hỏi '{qid}' có ký tự không dùng được",
              f"question id '{qid}' has characters that cannot be used",
              "chỉ dùng chữ không dấu, số, '_', '-', '.'",
              "use only a-z, A-Z, 0-9, '_', '-', '.'")
    elif qid in RESERVED_IDS:
        p.add(line, where, f"mã câu hỏi '{qid}' trùng tên một cột của responses.csv",
              f"question id '{qid}' is a reserved column name of responses.csv",
              f"đổi tên, ví dụ '{qid}_1'", f"rename it, e.g. '{qid}_1'")
    if qid in ctx.ids:
        p.add(line, where, f"mã câu hỏi '{qid}' trùng với dòng {ctx.ids[qid]}",
              f"duplicate id '{qid}' (first used on line {ctx.ids[qid]})",
              "mỗi câu hỏi cần một mã riêng", "give each question its own id")
        return None
    ctx.ids[qid] = line
    return qid


# --- parts of the form ----------------------------------------------------------


def _form(p: _Problems, doc: Any, source: str) -> Form | None:
    if not isinstance(doc, LineDict):
        p.add(1, "phiếu/form", "tệp không chứa định nghĩa phiếu (cần các khóa id, version, title, ...)",
              "the file holds no form definition (expected keys id, version, title, ...)",
              "bắt đầu từ một mẫu: phieu forms new --from mot-cua --out phieu.yaml",
              "start from a copy: phieu forms new --from mot-cua --out my-form.yaml")
        return None
    _keys(p, doc, FORM_KEYS, "phiếu/form")
    form_id = _text(p, doc, "id", "phiếu/form")
    if form_id is not None and not FORM_ID_RE.match(form_id):
        p.add(doc.line_of("id"), "phiếu/form", f"mã phiếu '{form_id}' không hợp lệ",
              f"form id '{form_id}' is not valid",
              "chỉ dùng chữ thường không dấu, số, '-' và '_', ví dụ 'mot-cua-2025'",
              "use lower-case a-z, 0-9, '-' and '_', e.g. 'mot-cua-2025'")
        form_id = None
    version = _integer(p, doc, "version", "phiếu/form", 1, 9999)
    title = _text(p, doc, "title", "phiếu/form")
    office = _text(p, doc, "office", "phiếu/form")
    intro = _text(p, doc, "intro", "phiếu/form", default="")
    instructions = _text(p, doc, "instructions", "phiếu/form", default="")
    groups = _groups(p, doc)
    topics = _comment_topics(p, doc)
    scales, broken = _scales(p, doc)
    ctx = _Context(scales=scales, groups=groups, broken_scales=broken)
    sections: list[Section] = []
    raw_sections = _sequence(p, doc, "sections", "phiếu/form") if "sections" in doc else None
    for i, raw in enumerate(raw_sections or []):
        assert raw_sections is not None
        section = _section(p, ctx, raw, raw_sections.line_of(i), i + 1)
        if section is not None:
            sections.append(section)
    # With problems elsewhere the form is still built from its valid parts
    # (placeholders for bad header fields), so that the page-fit check can run
    # too and every problem is reported at once; the caller raises anyway.
    return Form(
        id=form_id or "?", version=version or 1, title=title or "?", office=office or "?",
        intro=intro or "", instructions=instructions or _default_instructions(sections),
        sections=tuple(sections), scales=scales, groups=groups, source=source,
        comment_topics=topics,
    )


def _default_instructions(sections: list[Section]) -> str:
    marks = set()
    for section in sections:
        for block in section.blocks:
            if getattr(block, "mark", None):
                marks.add(block.mark)
    if marks == {"digit"}:
        return DEFAULT_INSTRUCTIONS["digit"]
    return DEFAULT_INSTRUCTIONS["both" if len(marks) > 1 else "box"]


def _groups(p: _Problems, doc: LineDict) -> dict[str, str]:
    if "groups" not in doc:
        return {}
    raw = _mapping(p, doc["groups"], doc.line_of("groups"), "'groups'")
    groups: dict[str, str] = {}
    for key in raw or {}:
        assert raw is not None
        label = _text(p, raw, key, f"nhóm/group '{key}'")
        if label is not None:
            groups[str(key)] = label
    return groups


def _comment_topics(p: _Problems, doc: LineDict) -> tuple[CommentTopic, ...]:
    """`comment_topics`: a list of {label, keywords}; each keyword is a word or phrase of
    text. A label or keyword given twice is reported (a comment would count twice, or the
    second rule would never decide anything)."""
    if "comment_topics" not in doc:
        return ()
    raw = _sequence(p, doc, "comment_topics", "'comment_topics'")
    topics: list[CommentTopic] = []
    labels: dict[str, int] = {}
    keywords: dict[str, int] = {}
    for i, item in enumerate(raw or []):
        assert raw is not None
        line = raw.line_of(i)
        where = f"chủ đề ý kiến/comment topic {i + 1}"
        m = _mapping(p, item, line, where)
        if m is None:
            continue
        _keys(p, m, TOPIC_KEYS, where)
        label = _text(p, m, "label", where)
        words = m.get("keywords")
        if isinstance(words, str):
            words = [words]
        if "keywords" in m and (not isinstance(words, list) or not words):
            p.add(m.line_of("keywords"), where, "'keywords' phải là danh sách từ khóa",
                  "'keywords' must be a list of words or phrases",
                  "ví dụ 'keywords: [nhà vệ sinh, ghế, quạt]'",
                  "e.g. 'keywords: [nhà vệ sinh, ghế, quạt]'")
            words = None
        if label is None or words is None:
            continue
        clean: list[str] = []
        for word in words:
            text = "" if word is None or isinstance(word, (bool, dict, list)) else str(word).strip()
            key = text.casefold()
            if not text:
                p.add(m.line_of("keywords"), where, f"từ khóa không hợp lệ {word!r}",
                      f"keyword {word!r} is not text", "viết từ hoặc cụm từ",
                      "write a word or a phrase")
            elif key in keywords:
                p.add(m.line_of("keywords"), where,
                      f"từ khóa '{text}' đã dùng ở dòng {keywords[key]}",
                      f"keyword '{text}' already used on line {keywords[key]}",
                      "mỗi từ khóa chỉ thuộc một chủ đề", "give each keyword to one topic")
            else:
                keywords[key] = m.line_of("keywords")
                clean.append(text)
        if label.casefold() in labels:
            p.add(m.line_of("label"), where,
                  f"chủ đề '{label}' trùng với dòng {labels[label.casefold()]}",
                  f"topic '{label}' repeats line {labels[label.casefold()]}",
                  "gộp các từ khóa vào một chủ đề", "merge the keywords into one topic")
            continue
        labels[label.casefold()] = m.line_of("label")
        if clean:
            topics.append(CommentTopic(label, tuple(clean)))
    return tuple(topics)


def _scales(p: _Problems, doc: LineDict) -> tuple[dict[str, Scale], frozenset[str]]:
    """The valid scales, and the ids of those with problems (already reported)."""
    if "scales" not in doc:
        return {}, frozenset()
    raw = _mapping(p, doc["scales"], doc.line_of("scales"), "'scales'")
    scales: dict[str, Scale] = {}
    for key in raw or {}:
        assert raw is not None
        where = f"thang đo/scale '{key}'"
        m = _mapping(p, raw[key], raw.line_of(key), where)
        if m is None:
            continue
        _keys(p, m, SCALE_KEYS, where)
        options = _options(p, m, where, scored=True)
        if not options:
            continue
        codes = {o.code for o in options}
        satisfied = m.get("satisfied", [])
        if not isinstance(satisfied, list):
            satisfied = [satisfied]
        bad = [s for s in satisfied if str(s) not in codes]
        if bad:
            p.add(m.line_of("satisfied"), where,
                  f"'satisfied' có mã không thuộc thang đo: {bad}",
                  f"'satisfied' names codes the scale does not have: {bad}",
                  "dùng các mã: " + ", ".join(sorted(codes)),
                  "use codes among: " + ", ".join(sorted(codes)))
        scales[str(key)] = Scale(str(key), options,
                                 frozenset(str(s) for s in satisfied if str(s) in codes))
    return scales, frozenset(str(k) for k in raw or {}) - set(scales)


def _options(p: _Problems, m: LineDict, where: str, scored: bool) -> tuple[Option, ...]:
    """The `options` list of `m`; empty when it has problems (already reported)."""
    raw = _sequence(p, m, "options", where) if "options" in m else None
    if raw is None:
        if "options" not in m and scored:
            pass  # the missing key itself is reported by _keys
        return ()
    options: list[Option] = []
    seen: dict[str, int] = {}
    ok = True
    for i, item in enumerate(raw):
        line = raw.line_of(i)
        om = _mapping(p, item, line, f"{where}, lựa chọn/option {i + 1}")
        if om is None:
            ok = False
            continue
        owhere = f"{where}, lựa chọn/option {i + 1}"
        _keys(p, om, OPTION_KEYS, owhere)
        code, label = _text(p, om, "code", owhere), _text(p, om, "label", owhere)
        score = _integer(p, om, "score", owhere, -100, 100, default=i + 1 if scored else None)
        if code is None or label is None or ("score" in om and score is None):
            ok = False
            continue
        if code in seen:
            p.add(om.line_of("code"), where, f"mã lựa chọn '{code}' dùng hai lần "
                  f"(lần đầu ở dòng {seen[code]})",
                  f"option code '{code}' used twice (first on line {seen[code]})",
                  "mỗi lựa chọn cần một mã riêng", "give each option its own code")
            ok = False
            continue
        seen[code] = om.line_of("code")
        options.append(Option(code, label, score))
    return tuple(options) if ok else ()


def _section(p: _Problems, ctx: _Context, raw: Any, line: int, number: int) -> Section | None:
    where = f"phần/section {number}"
    m = _mapping(p, raw, line, where)
    if m is None:
        return None
    _keys(p, m, SECTION_KEYS, where)
    heading = _text(p, m, "heading", where)
    intro = _text(p, m, "intro", where, default="")
    raw_blocks = _sequence(p, m, "questions", where) if "questions" in m else None
    blocks = []
    for i, item in enumerate(raw_blocks or []):
        assert raw_blocks is not None
        block = _block(p, ctx, item, raw_blocks.line_of(i), f"{where}, câu/question {i + 1}")
        if block is not None:
            blocks.append(block)
    if heading is None or intro is None or not blocks:
        return None
    return Section(heading=heading, blocks=tuple(blocks), intro=intro)


def _block(p: _Problems, ctx: _Context, raw: Any, line: int, where: str) -> Block | None:
    m = _mapping(p, raw, line, where)
    if m is None:
        return None
    if "id" in m and isinstance(m["id"], str):
        where = f"câu/question '{m['id']}'"
    if "type" not in m:
        _keys(p, m, {**CHOICE_KEYS, "lines": False, "rows": False}, where)
        _new_id(p, ctx, m, where)  # still catch a duplicate id
        return None
    kind = _choice(p, m, "type", QUESTION_TYPES, where, default="")
    if kind is None:
        _new_id(p, ctx, m, where)
    if kind == "text":
        return _text_question(p, ctx, m, where)
    if kind == "matrix":
        return _matrix(p, ctx, m, where)
    if kind in ("single", "multi"):
        return _choice_question(p, ctx, m, kind, where)
    return None


def _text_question(p: _Problems, ctx: _Context, m: LineDict, where: str) -> Question | None:
    _keys(p, m, TEXT_KEYS, where)
    qid = _new_id(p, ctx, m, where)
    text = _text(p, m, "text", where)
    lines = _integer(p, m, "lines", where, 1, MAX_TEXT_LINES, default=4)
    if qid is None or text is None or lines is None:
        return None
    return Question(id=qid, type="text", text=text, lines=lines, line=m.line)


def _choice_question(p: _Problems, ctx: _Context, m: LineDict, kind: str,
                     where: str) -> Question | None:
    _keys(p, m, CHOICE_KEYS, where)
    qid = _new_id(p, ctx, m, where)
    text = _text(p, m, "text", where)
    mark = _mark_style(p, m, where)
    group = _reference(p, m, "group", ctx.groups, "group", where)
    bad_group = "group" in m and group is None
    scale_id = None
    if ("options" in m) == ("scale" in m):
        p.add(m.line, where, "cần đúng một trong 'options' hoặc 'scale'",
              "needs exactly one of 'options' or 'scale'",
              "liệt kê lựa chọn dưới 'options:' hoặc dùng một thang đo 'scale: <tên>'",
              "list the choices under 'options:' or name a scale with 'scale: <id>'")
        options: tuple[Option, ...] = ()
    elif "scale" in m:
        scale_id = _reference(p, m, "scale", ctx.scales, "scale", where, ctx.broken_scales)
        options = ctx.scales[scale_id].options if scale_id else ()
    else:
        options = _options(p, m, where, scored=False)
    if mark == "digit" and not _digit_codes_ok(p, m, options, where):
        return None
    if qid is None or text is None or mark is None or not options or bad_group:
        return None
    return Question(id=qid, type="multi" if kind == "multi" else "single", text=text, options=options, mark=mark,
                    scale=scale_id, group=group, line=m.line)


def _digit_codes_ok(p: _Problems, m: LineDict, options: tuple[Option, ...], where: str) -> bool:
    long = [o.code for o in options if len(o.code) > MAX_DIGIT_CODE_LEN]
    if long:
        p.add(m.line_of("mark"), where, f"dùng 'mark: digit' nhưng mã lựa chọn quá dài "
              f"để in làm chữ số: {long}",
              f"uses 'mark: digit' but these option codes are too long to print "
              f"as digits: {long}",
              "dùng mã 1, 2, 3, ... hoặc 'mark: box'", "use codes 1, 2, 3, ... or 'mark: box'")
        return False
    return True


def _matrix(p: _Problems, ctx: _Context, m: LineDict, where: str) -> Matrix | None:
    _keys(p, m, MATRIX_KEYS, where)
    mid = _new_id(p, ctx, m, where)
    text = _text(p, m, "text", where, default="")
    mark = _mark_style(p, m, where)
    scale_id = _reference(p, m, "scale", ctx.scales, "scale", where, ctx.broken_scales)
    group = _reference(p, m, "group", ctx.groups, "group", where)
    bad = ("group" in m and group is None) or ("scale" in m and scale_id is None)
    options = ctx.scales[scale_id].options if scale_id else ()
    if mark == "digit" and options and not _digit_codes_ok(p, m, options, where):
        bad = True
    headings = m.get("group_headings", True)
    if not isinstance(headings, bool):
        p.add(m.line_of("group_headings"), where, "'group_headings' phải là true/false",
              f"'group_headings' must be true or false (got {headings!r})",
              "viết 'group_headings: false' hoặc bỏ dòng này",
              "write 'group_headings: false' or remove the line")
        bad = True
    raw_rows = _sequence(p, m, "rows", where) if "rows" in m else None
    rows: list[Question] = []
    for i, raw in enumerate(raw_rows or []):
        assert raw_rows is not None
        rwhere = f"{where}, dòng/row {i + 1}"
        rm = _mapping(p, raw, raw_rows.line_of(i), rwhere)
        if rm is None:
            bad = True
            continue
        _keys(p, rm, ROW_KEYS, rwhere)
        rid = _new_id(p, ctx, rm, rwhere)
        rtext = _text(p, rm, "text", rwhere)
        rgroup = _reference(p, rm, "group", ctx.groups, "group", rwhere) or group
        if rid is None or rtext is None or mark is None or ("group" in rm and rgroup is None):
            bad = True
            continue
        rows.append(Question(id=rid, type="single", text=rtext, options=options, mark=mark,
                             scale=scale_id, group=rgroup, matrix=mid, line=rm.line))
    if bad or mid is None or text is None or mark is None or scale_id is None or not rows:
        return None
    return Matrix(id=mid, text=text, scale=scale_id, mark=mark, rows=tuple(rows), line=m.line,
                  group_headings=headings)


def _check_header(p: _Problems, form: Form, doc: Any) -> None:
    """Report a page-1 header (title, intro, instructions) that runs over the bottom
    corner markers (the layout engine measures it)."""
    from forms.layout import header_overflow

    overflow = header_overflow(form)
    if overflow is None:
        return
    bottom, limit = overflow
    key = "intro" if form.intro else "instructions"
    line = doc.line_of(key) if hasattr(doc, "line_of") else 1
    p.add(line, key,
          f"phần đầu trang 1 dài tới {bottom:.0f} mm, đè lên dấu góc dưới (tối đa {limit:.0f} mm)",
          f"page 1's title, intro and instructions reach {bottom:.0f} mm and run over the "
          f"bottom corner markers (at most {limit:.0f} mm)",
          "rút ngắn phần giới thiệu hoặc hướng dẫn", "shorten the intro or the instructions")


def _check_fits(p: _Problems, form: Form) -> None:
    """Report every block too tall for one page (the layout engine measures it)."""
    from forms.layout import oversized_blocks  # layout imports this module's model only

    for block, needed, available in oversized_blocks(form):
        p.add(block.line, f"câu/question '{block.id}'",
              f"cao {needed:.0f} mm, không vừa một trang ({available:.0f} mm)",
              f"is {needed:.0f} mm tall and cannot fit on one page ({available:.0f} mm)",
              "giảm số dòng ('lines'), số lựa chọn hoặc độ dài câu chữ, hoặc tách thành "
              "nhiều câu", "use fewer lines, fewer options or shorter text, or split it")
